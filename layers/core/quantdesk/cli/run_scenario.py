"""``quantdesk run-scenario <id> --prices FILE.csv``: run a scenario locally on your own data.

The CSV is long format (``date,symbol,open,high,low,close,volume``, extra columns allowed; a
scenario reading only closes needs just ``date,symbol,close``). Other datasets a scenario reads
(fundamentals, earnings, macro, sentiment, sectors, ``universe`` membership intervals for a
point-in-time universe, ``splits`` for split-consistent market caps) come from ``--data
NAME=FILE.csv``. No cloud involved: the same compute functions the worker Lambda runs, on the
same history window (the one the parameters need).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quantdesk.cli.render import render_table
from scenarios.base import ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.history import history_window
from scenarios.registry import SCENARIO_IDS, get_spec, runner

OPTIONAL_DATASETS = (
    "fundamentals",
    "earnings",
    "macro",
    "sentiment",
    "sectors",
    "universe",
    "splits",
)
#: columns parsed as dates, per dataset
DATE_COLUMNS = {
    "prices": ["date"],
    "fundamentals": ["period_end", "report_date"],
    "earnings": ["report_date"],
    "macro": ["date", "release_date"],
    "sentiment": ["date"],
    "sectors": [],
    "universe": ["start_date", "end_date"],
    "splits": ["date"],
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run-scenario", help="run a scenario on a local CSV, no cloud needed"
    )
    parser.add_argument("scenario_id", help=f"one of: {', '.join(SCENARIO_IDS)}")
    parser.add_argument("--prices", required=True, type=Path, help="long-format prices CSV")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help=f"extra dataset CSV ({', '.join(OPTIONAL_DATASETS)}); repeatable",
    )
    parser.add_argument(
        "--params", default="{}", help="JSON object of scenario inputs, or @file.json"
    )
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--rows", type=int, default=25, help="table rows printed (table format)")
    parser.set_defaults(func=run_scenario)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _read_csv(path: Path, dataset: str) -> Any:
    # CLI start-up: every command module is imported to build the parser
    import pandas as pd  # noqa: PLC0415

    frame = pd.read_csv(path)
    for column in DATE_COLUMNS.get(dataset, []):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
    if "symbol" in frame.columns:
        frame["symbol"] = frame["symbol"].astype(str).str.strip().str.upper()
    return frame


def _load_params(raw: str) -> dict[str, Any]:
    text = Path(raw[1:]).read_text() if raw.startswith("@") else raw
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("--params must be a JSON object")
    return value


def _load_data(args: argparse.Namespace) -> ScenarioData:
    frames: dict[str, Any] = {"prices": _read_csv(args.prices, "prices")}
    for item in args.data:
        name, _, file = item.partition("=")
        if name not in OPTIONAL_DATASETS or not file:
            raise ValueError(
                f"--data expects NAME=FILE with NAME in {', '.join(OPTIONAL_DATASETS)}"
            )
        frames[name] = _read_csv(Path(file), name)
    return ScenarioData(**frames)


def run_scenario(args: argparse.Namespace) -> int:
    spec = get_spec(args.scenario_id)
    if spec is None:
        return _fail(
            f"unknown scenario {args.scenario_id!r}; choose from {', '.join(SCENARIO_IDS)}"
        )
    try:
        params = spec.params_model(**_load_params(args.params))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        return _fail(f"invalid params: {problems}")
    except (ValueError, OSError) as exc:
        return _fail(f"invalid --params: {exc}")
    try:
        data = _load_data(args)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot read data: {exc}")
    try:
        # the rows the worker would read from the lake: the history these parameters need
        result = runner(args.scenario_id)(history_window(data, spec, params), params)
    except ScenarioInputError as exc:
        where = f" (field: {exc.field})" if exc.field else ""
        return _fail(f"{exc}{where}")
    if args.format == "json":
        print(result.model_dump_json(indent=2))
    else:
        print(render_result(result, args.rows))
    return 0


def render_result(result: ScenarioResult, rows: int) -> str:
    columns = [c.model_dump() for c in result.columns]
    quality = result.data_quality
    lines = [
        f"{result.scenario_id} as of {result.as_of}",
        "",
        render_table(columns, result.rows, limit=rows),
        "",
        *[f"- {claim.text}" for claim in result.narrative],
        "",
        f"data quality: {quality.assets_used} of {quality.assets_requested} assets used, "
        f"{quality.rows_dropped} of {quality.rows_in} rows dropped",
        *[f"  skipped {symbol}: {reason}" for symbol, reason in quality.dropped.items()],
        *[f"  note: {note}" for note in quality.notes],
    ]
    return "\n".join(lines)
