"""``quantdesk report <run_id> -o FILE``: save a run's self-contained HTML report;
``quantdesk export <run_id> --format csv|json|parquet -o FILE``: save its table.

Both ask the API for a short-lived link (the owner check applies) and download the file from
it, streamed to disk.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from quantdesk.cli.target import DEFAULT_URL, CliError


def register(subparsers: Any) -> None:
    for name, help_text in (
        ("report", "save a run's self-contained HTML report"),
        ("export", "save a run's result table (csv, json or parquet)"),
    ):
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument("run_id", help="the run (as printed by `quantdesk ask`)")
        parser.add_argument("-o", "--output", type=Path, required=True, help="file to write")
        if name == "export":
            parser.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
        parser.add_argument("--url", default=DEFAULT_URL, help=f"stack origin ({DEFAULT_URL})")
        parser.add_argument("--user", help="act as this user (local stack only)")
        parser.set_defaults(func=save)


def link_path(args: argparse.Namespace) -> str:
    if args.command == "report":
        return f"/analysis/runs/{args.run_id}/report"
    return f"/analysis/runs/{args.run_id}/export?format={args.format}"


def save(args: argparse.Namespace) -> int:
    # CLI start-up: every command module is imported to build the parser
    import httpx  # noqa: PLC0415

    from quantdesk.cli.signin import bearer_token  # noqa: PLC0415

    try:
        with httpx.Client(base_url=args.url, timeout=httpx.Timeout(30, read=120)) as client:
            token = bearer_token(client, args.url, user=args.user)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = client.get(link_path(args), headers=headers)
            except httpx.HTTPError as exc:
                raise CliError(f"cannot reach {args.url} ({exc}); is `make up` running?") from exc
            if response.status_code != 200:
                problem = response.json()
                raise CliError(f"{problem.get('message')} (field: {problem.get('field')})")
            written = 0
            # the presigned URL carries its own credentials: no Authorization header
            with httpx.stream("GET", response.json()["url"], timeout=120) as download:
                if download.status_code != 200:
                    raise CliError(f"download failed: HTTP {download.status_code}")
                with args.output.open("wb") as out:
                    for chunk in download.iter_bytes():
                        written += out.write(chunk)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.output} ({written} bytes)")
    return 0
