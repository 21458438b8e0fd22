"""The history a run reads: each scenario's parameters size it (``ScenarioSpec.history``).

The worker asks the lake for exactly this window (:mod:`quantdesk.datalake.reader`); the CLI
cuts a local file to it with :func:`history_window`, so a run on a file and a run on the lake
read the same rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from scenarios.base import FUNDAMENTALS_LOOKBACK_DAYS, ScenarioData, ScenarioParams, ScenarioSpec

#: dataset -> the date column that places a row in the window
DATE_COLUMN = {
    "prices": "date",
    "fundamentals": "report_date",
    "earnings": "report_date",
    "macro": "date",
    "sentiment": "date",
}


def analysis_date(data: ScenarioData, params: ScenarioParams) -> dt.date | None:
    """``as_of``, at most the last price date (None without a parseable date): a date after
    the data is left for the scenario to refuse, naming the field."""
    last = pd.to_datetime(data.prices["date"], errors="coerce").max()
    if pd.isna(last):
        return None
    return min(params.as_of, last.date()) if params.as_of is not None else last.date()


def history_window(data: ScenarioData, spec: ScenarioSpec, params: ScenarioParams) -> ScenarioData:
    """``data`` without the rows older than the history ``params`` need.

    Rows before ``spec.history_start(params, as_of)`` go (fundamentals keep
    ``FUNDAMENTALS_LOOKBACK_DAYS`` more, as the lake read does); rows without a parseable
    date stay, for the scenario to count. Sectors and membership intervals are kept whole.
    """
    as_of = analysis_date(data, params)
    if as_of is None:
        return data
    start = pd.Timestamp(spec.history_start(params, as_of))
    frames = {}
    for name, column in DATE_COLUMN.items():
        frame = getattr(data, name)
        if frame is None or column not in frame.columns:
            continue
        first = start
        if name == "fundamentals":
            first -= pd.Timedelta(days=FUNDAMENTALS_LOOKBACK_DAYS)
        dates = pd.to_datetime(frame[column], errors="coerce")
        frames[name] = frame[~(dates < first).to_numpy()].reset_index(drop=True)
    return dataclasses.replace(data, **frames)
