"""``quantdesk analytics export``: your real choices (prompt -> the card you ran) as labelled
pairs in the format of the ranking's evaluation set (``tests/unit/ranking/prompts.json``).

Reads ``GET /analysis/analytics`` as the signed-in researcher (``--user`` on the local stack,
else the cached ``quantdesk login``, else the local default researcher). ``--merge FILE`` adds
the pairs to an existing evaluation set instead, skipping prompts it already labels.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

from quantdesk.cli.target import DEFAULT_URL, CliError

KIND: Final = "chosen"
ABOUT: Final = (
    "Labelled prompts exported by `quantdesk analytics export`: top1 is the scenario a "
    "researcher ran from the suggested cards (kind: chosen)."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("analytics", help="your prompt analytics")
    commands = parser.add_subparsers(dest="analytics_command", required=True)
    export = commands.add_parser(
        "export", help="write prompt -> chosen card pairs as ranking evaluation cases"
    )
    export.add_argument(
        "--from", dest="start", help="first UTC day, YYYY-MM-DD (default: 30 days ago)"
    )
    export.add_argument("--to", dest="end", help="last UTC day, YYYY-MM-DD (default: today)")
    out = export.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    out.add_argument("--merge", type=Path, help="add to this evaluation set (prompts.json)")
    export.add_argument("--url", default=DEFAULT_URL, help=f"stack origin (default {DEFAULT_URL})")
    export.add_argument("--user", help="act as this user (local stack only)")
    export.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    # CLI start-up: every command module is imported to build the parser
    import httpx  # noqa: PLC0415

    from quantdesk.cli.signin import bearer_token  # noqa: PLC0415

    try:
        with httpx.Client(base_url=args.url, timeout=httpx.Timeout(30)) as client:
            token = bearer_token(client, args.url, user=args.user)
            if token is not None:
                client.headers["Authorization"] = f"Bearer {token}"
            report = fetch_report(client, args.start, args.end)
    except httpx.HTTPError as exc:
        return _fail(f"cannot reach {args.url} ({exc}); is `make up` running?")
    except CliError as exc:
        return _fail(str(exc))
    cases = labelled_cases(report)
    if args.merge:
        added = merge(args.merge, cases)
        print(f"added {added} of {len(cases)} chosen prompts to {args.merge}", file=sys.stderr)
        return 0
    text = json.dumps({"about": ABOUT, "prompts": []}, indent=2, ensure_ascii=False) + "\n"
    text = _append(text, cases)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {len(cases)} chosen prompts to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def fetch_report(client: Any, start: str | None, end: str | None) -> dict[str, Any]:
    query = {k: v for k, v in (("from", start), ("to", end)) if v}
    response = client.get("/analysis/analytics", params=query)
    if response.status_code == 401:
        raise CliError("not signed in: run `quantdesk login`")
    if response.status_code != 200:
        problem = response.json()
        field = problem.get("field")
        option = {"from": "--from", "to": "--to"}.get(field or "", field)
        raise CliError(f"{problem.get('message')}" + (f" (option {option})" if option else ""))
    body: dict[str, Any] = response.json()
    return body


def labelled_cases(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One evaluation case per prompt: the card chosen for it (the newest choice wins)."""
    return [{"prompt": p["prompt"], "top1": p["top1"], "kind": KIND} for p in report["pairs"]]


def merge(path: Path, cases: list[dict[str, Any]]) -> int:
    """Add ``cases`` whose prompt ``path`` does not label yet (case-insensitively), as a block
    at the end of its list, one case a line like the rest of the file; how many."""
    text = path.read_text(encoding="utf-8")
    known = {p["prompt"].strip().casefold() for p in json.loads(text)["prompts"]}
    new = [c for c in cases if c["prompt"].strip().casefold() not in known]
    path.write_text(_append(text, new), encoding="utf-8")
    return len(new)


def _append(text: str, cases: list[dict[str, Any]]) -> str:
    """``text`` (an evaluation set) with ``cases`` at the end of its ``prompts`` list."""
    if not cases:
        return text
    close = text.rindex("]")
    last = text.rfind("}", 0, close)
    opening = text.index("[", text.index('"prompts"'))
    lines = ",\n".join(f"    {json.dumps(c, ensure_ascii=False)}" for c in cases)
    if last < opening:  # an empty list
        return text[:opening] + "[\n" + lines + "\n  " + text[close:]
    return text[: last + 1] + ",\n\n" + lines + text[last + 1 :]


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
