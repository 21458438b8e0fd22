"""``quantdesk ingest --source NAME [--path DIR [--bulk]] [--dataset NAME] [--universe NAME]
[--symbol T] [--stack NAME]``.

Starts the ``ingestion`` state machine on the running stack (the local cloud by default, or AWS
with ``--aws``), as the stack's CloudFormation outputs name it, and follows it live: one line
per step as it happens, then the summary (rows loaded, quarantined with reasons, new
snapshots). ``--path`` uploads a directory of CSV/Parquet files to the landing prefix first.
Prices of tickers the lake does not know register them in a universe named after the directory,
or in ``--universe NAME`` (which then takes every ticker of the batch's prices).
``--bulk`` reads ``--path``'s files in parallel batches (the workflow's Distributed Map).
``--symbol`` restricts an online vendor source (stooq, tiingo, edgar) to those tickers
instead of the lake's current universe members.
Exit code 0 when data loaded (with or without warnings), 1 when the ingestion failed, 2 on
usage errors.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, Final, TextIO

from quantdesk import stack_outputs
from quantdesk.cli.target import add_cloud_arguments, use_cloud
from quantdesk.ingestion.workflow import start_and_follow
from quantdesk.settings import get_settings
from scenarios.base import UNIVERSE_PATTERN

SOURCES: Final = (
    "sample",
    "files",
    "fred",
    "alfred",
    "gdelt",
    "stooq",
    "tiingo",
    "edgar",
    "membership",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ingest", help="run the ingestion workflow and follow it")
    parser.add_argument("--source", choices=SOURCES, default="sample")
    parser.add_argument("--path", type=Path, help="directory of files to ingest (files source)")
    parser.add_argument(
        "--dataset", action="append", dest="datasets", help="only this dataset (repeatable)"
    )
    parser.add_argument(
        "--universe",
        help="universe the batch's tickers join (default: one named after --path's directory)",
    )
    parser.add_argument(
        "--symbol", action="append", dest="symbols", help="only this ticker (repeatable)"
    )
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="read --path's files in parallel batches (a Distributed Map): thousands of files",
    )
    add_cloud_arguments(parser, "the table, bucket and workflow")
    parser.set_defaults(func=ingest)


def upload(directory: Path, prefix: str) -> int:
    """Upload every file under ``directory`` to ``prefix`` in the data bucket."""
    # CLI start-up: boto3 waits for the command
    from quantdesk.datalake.repository import LakeObjectStore  # noqa: PLC0415

    store = LakeObjectStore(get_settings().data_bucket)
    count = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        store.put_bytes(prefix + path.relative_to(directory).as_posix(), path.read_bytes())
        count += 1
    return count


def print_summary(
    summary: dict[str, Any], out: TextIO = sys.stdout, bucket: str = "<data bucket>"
) -> None:
    print(f"\n{summary.get('status', '?').upper()}  {summary.get('run_id', '')}", file=out)
    for source in summary.get("sources", []):
        label = " (SYNTHETIC)" if source.get("synthetic") else ""
        print(f"  {source['source']}{label}: {source['status']}", file=out)
        if source.get("error"):
            print(f"    error: {source['error']}", file=out)
        if source.get("registered"):
            registered = source["registered"]
            shown = ", ".join(registered.get("first", []))
            more = "…" if registered["symbols"] > len(registered.get("first", [])) else ""
            print(
                f"    registered {registered['symbols']} new symbol(s) in universe "
                f"{registered['universe']}: {shown}{more}",
                file=out,
            )
        if source.get("already_applied"):
            print(f"    same batch as run {source['already_applied']}: nothing to do", file=out)
        for d in source.get("datasets", []):
            state = f"new snapshot {d['snapshot_id']}" if d.get("snapshot_id") else "unchanged"
            counts = f"{d['rows_loaded']:,}/{d['rows_in']:,}"
            line = f"    {d['dataset']:<13} {counts:>21} rows  {state}"
            print(line, file=out)
            if d.get("rows_quarantined"):
                reasons = ", ".join(f"{k}={v}" for k, v in d.get("reasons", {}).items())
                print(f"      quarantined {d['rows_quarantined']:,}: {reasons}", file=out)
            for error in d.get("errors", []):
                print(f"      error: {error}", file=out)
            for note in filter(None, d.get("notes", [])):
                print(f"      note: {note}", file=out)
        for issue in source.get("issues", []):
            detail = f" ({issue['detail']})" if issue.get("detail") else ""
            print(f"    file {issue['file']}: {issue['reason']}{detail}", file=out)
        if source.get("report_key"):
            print(f"    report: s3://{bucket}/{source['report_key']}", file=out)
    if not summary.get("sources"):
        print(f"  {summary.get('message', '')}", file=out)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The request's options from the command line."""
    options: dict[str, Any] = {}
    if args.universe is not None:
        options["universe"] = args.universe
    elif args.path is not None:
        options["batch"] = args.path.resolve().name
    if args.symbols:
        options["symbols"] = args.symbols
    if args.bulk:
        options["bulk"] = True
    return options


def ingest(args: argparse.Namespace) -> int:
    if args.source == "files" and args.path is None:
        print("error: --source files needs --path DIR", file=sys.stderr)
        return 2
    if args.bulk and args.source != "files":
        print("error: --bulk loads files: use it with --source files --path DIR", file=sys.stderr)
        return 2
    if args.path is not None and not args.path.is_dir():
        print(f"error: {args.path} is not a directory", file=sys.stderr)
        return 2
    if args.universe is not None and not re.match(UNIVERSE_PATTERN, args.universe):
        print(
            f"error: --universe {args.universe!r}: use lower-case letters, digits and _, "
            "starting with a letter (at most 40 characters)",
            file=sys.stderr,
        )
        return 2
    use_cloud(args)
    # CLI start-up: numpy and pandas wait for the command
    from quantdesk.datalake.layout import LANDING_PREFIX  # noqa: PLC0415
    from quantdesk.ingestion.pipeline import new_run_id  # noqa: PLC0415

    run_id = new_run_id()
    request: dict[str, Any] = {"source": args.source}
    if args.datasets:
        request["datasets"] = args.datasets
    options = _options(args)
    if options:
        request["options"] = options
    try:
        os.environ.update(stack_outputs.environment(stack_outputs.outputs(args.stack)))
        get_settings.cache_clear()
        if args.path is not None:
            prefix = f"{LANDING_PREFIX}/{run_id}/"
            count = upload(args.path, prefix)
            print(f"uploaded {count} file(s) to {prefix}")
            request["prefix"] = prefix
        summary = start_and_follow([request], run_id)
    except Exception as exc:  # an unreachable stack is the common case: say so plainly
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("is the stack running? start it with `make up`", file=sys.stderr)
        return 1
    print_summary(summary, bucket=get_settings().data_bucket)
    return 1 if summary.get("status") == "failed" else 0
