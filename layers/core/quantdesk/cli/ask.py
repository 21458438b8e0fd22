"""``quantdesk ask "<prompt>"``: rank scenarios, run one, follow it live, print the result.

Talks to a running stack over HTTP like any client (default: the local origin), as the user
``--user`` names (local stack only), else the cached ``quantdesk login`` for the site, else the
local stack's default researcher.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from quantdesk.cli.render import render_table
from quantdesk.cli.target import DEFAULT_URL, CliError
from quantdesk.runs.models import TERMINAL


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ask", help="rank scenarios for a prompt and run one live")
    parser.add_argument("prompt", help='e.g. "stocks with strong uptrends"')
    parser.add_argument("--pick", type=int, help="run the Nth card (default: the top one)")
    parser.add_argument("--params", default="{}", help="JSON params overriding the card's")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"stack origin (default {DEFAULT_URL})")
    parser.add_argument(
        "--user", help="act as this user (local stack only; created if needed, no password)"
    )
    parser.add_argument("--rows", type=int, default=15, help="result rows to print")
    parser.add_argument("--dry-run", action="store_true", help="only print the ranked cards")
    parser.set_defaults(func=ask)


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def print_cards(suggestions: list[dict[str, Any]], engine: dict[str, Any]) -> None:
    for card in suggestions:
        terms = ", ".join(
            t["term"] if isinstance(t, dict) else str(t) for t in card.get("matched_terms", [])
        )
        print(
            f"{card.get('rank', '?'):>2}. {card['scenario_id']:<22} {card.get('score', 0):.2f}  "
            f"{card.get('title', '')}"
        )
        if card.get("why"):
            print(f"    why: {card['why']}")
        if terms:
            print(f"    matched: {terms}")
    if engine:
        print(
            f"    (ranked by {engine.get('provider')} {engine.get('version', '')}, "
            f"{engine.get('latency_ms', 0):.1f} ms)"
        )


def describe_event(event: dict[str, Any]) -> str:
    at = event.get("at", "")[11:23]
    kind = event.get("event", "")
    line = f"{at}  #{event.get('seq'):<3} {kind:<8} {event.get('status', '')}"
    if kind == "progress" and event.get("progress"):
        p = event["progress"]
        line += f"  {p['percent']:>3.0f}%  {p.get('message', '')}"
    if event.get("error"):
        line += f"  reason: {event['error'].get('message')}"
    if kind == "result" and event.get("result_summary"):
        line += f"  {event['result_summary'].get('row_count', 0)} rows"
    return line


def follow(client: Any, stream_url: str) -> str:
    """Print each event as it arrives; return the terminal status."""
    # CLI start-up: every command module is imported to build the parser
    from httpx_sse import connect_sse  # noqa: PLC0415

    status = "queued"
    last_id = None
    for _ in range(5):  # reconnect with Last-Event-ID if the connection drops
        headers: dict[str, str] = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with connect_sse(client, "GET", stream_url, headers=headers) as source:
                for sse in source.iter_sse():
                    if not sse.data:  # the retry: preamble carries no event
                        continue
                    event = json.loads(sse.data)
                    last_id = sse.id or last_id
                    status = event.get("status", status)
                    print(describe_event(event), flush=True)
                    if sse.event == "status" and status in TERMINAL:
                        return status
        except Exception as exc:  # any transport error: resume from the last id
            print(f"  (stream interrupted: {exc}; resuming)", file=sys.stderr)
    return status


def ask(args: argparse.Namespace) -> int:
    # CLI start-up: every command module is imported to build the parser
    import httpx  # noqa: PLC0415

    from quantdesk.cli.signin import bearer_token  # noqa: PLC0415

    try:
        overrides = json.loads(args.params)
        with httpx.Client(base_url=args.url, timeout=httpx.Timeout(30, read=60)) as client:
            token = bearer_token(client, args.url, user=args.user)
            if token is not None:
                client.headers["Authorization"] = f"Bearer {token}"
            body = suggest(client, args.url, args.prompt)
            suggestions = body.get("suggestions", [])
            if body.get("no_confident_match") and args.pick is None:
                print("No confident match: rephrase, or pick a card with --pick N.")
                return 1
            if args.dry_run:
                return 0
            pick = args.pick or 1
            if not 1 <= pick <= len(suggestions):
                raise CliError(f"--pick must be between 1 and {len(suggestions)}")
            card = suggestions[pick - 1]
            accepted = start_run(
                client,
                card=card,
                overrides=overrides,
                prompt=args.prompt,
                pick=pick,
                engine=body.get("engine"),
                suggest_id=body.get("suggest_id"),
            )
            print(f"\nRunning {card['scenario_id']} as {accepted['run_id']}")
            status = follow(client, accepted["stream_url"])
            final = client.get(accepted["status_url"]).json()
    except ValueError:
        return _fail("--params must be a JSON object")
    except CliError as exc:
        return _fail(str(exc))
    return print_outcome(final, status, args.rows)


def suggest(client: Any, url: str, prompt: str) -> dict[str, Any]:
    # CLI start-up: every command module is imported to build the parser
    import httpx  # noqa: PLC0415

    try:
        response = client.post("/analysis/suggest", json={"prompt": prompt})
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach {url} ({exc}); is `make up` running?") from exc
    if response.status_code == 401:
        raise CliError(f"not signed in to {url}: run `quantdesk login --url {url}`")
    if response.status_code != 200:
        raise CliError(response.json().get("message", response.text))
    body: dict[str, Any] = response.json()
    print(f'Scenarios for "{prompt}":')
    print_cards(body.get("suggestions", []), body.get("engine", {}))
    return body


def start_run(
    client: Any,
    *,
    card: dict[str, Any],
    overrides: dict[str, Any],
    prompt: str,
    pick: int,
    engine: dict[str, Any] | None,
    suggest_id: str | None = None,
) -> dict[str, Any]:
    provenance = {"prompt": prompt[:2000], "rank": pick, "engine": engine}
    if suggest_id:
        provenance["suggest_id"] = suggest_id
    response = client.post(
        "/analysis/run",
        json={
            "scenario_id": card["scenario_id"],
            "params": {**card.get("params", {}), **overrides},
            "provenance": provenance,
        },
    )
    if response.status_code != 202:
        problem = response.json()
        raise CliError(f"{problem.get('message')} (field: {problem.get('field')})")
    accepted: dict[str, Any] = response.json()
    return accepted


def print_outcome(final: dict[str, Any], status: str, rows: int) -> int:
    if final.get("status") != "succeeded":
        reason = (final.get("error") or {}).get("message", "")
        print(f"\nRun {final.get('status', status)}: {reason}")
        return 2
    result = final.get("result") or {}
    print(f"\n{result.get('summary', '')}\n")
    print(render_table(result.get("columns", []), result.get("rows", []), limit=rows))
    for claim in result.get("narrative", [])[:5]:
        print(f"  • {claim['text']}")
    quality = result.get("data_quality") or {}
    if quality.get("dropped"):
        print(
            f"  data quality: {len(quality['dropped'])} assets dropped "
            f"({', '.join(list(quality['dropped'])[:5])}…)"
        )
    return 0
