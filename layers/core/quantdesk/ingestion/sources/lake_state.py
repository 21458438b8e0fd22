"""What the lake already holds, so online sources fetch only what is new (incremental fetches).

Read from the latest published snapshots (never from a run in flight):

* :func:`last_closes` — per symbol, the last price date and close (only the partitions of the
  last ``RECENT_DAYS`` are read; a symbol silent for longer is fetched whole again);
* :func:`last_report_dates` — per symbol, the latest fundamentals ``report_date``;
* :func:`current_members` — symbols whose universe membership is open today (the default list
  of symbols a vendor source fetches, :func:`symbols_for`);
* :func:`new_rows` — what a vendor answer adds after the lake's last date, and whether the
  vendor re-based its adjusted history (then the whole history is fetched again).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

import pandas as pd

from quantdesk.datalake.reader import Lake, read_partitions
from quantdesk.datalake.repository import SnapshotRepository
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.ingestion.errors import SourceConfigError
from quantdesk.settings import get_settings

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore
    from quantdesk.ingestion.sources.base import FetchRequest

RECENT_DAYS: Final = 400
#: relative difference of the overlapping close that means the vendor re-based its history
REBASE_TOLERANCE: Final = 1e-6


def lake_for(landing: LakeObjectStore) -> Lake:
    """The lake in the same data bucket as the landing store, on the settings' table."""
    return Lake(landing, SnapshotRepository(get_settings().table_name))


def _latest(lake: Lake, dataset: str, *, recent: bool) -> pd.DataFrame | None:
    record = lake.snapshots.latest(dataset)
    if record is None:
        return None
    manifest = load_manifest(lake.store, record)
    start = None
    if recent and manifest.coverage.max_date is not None:
        start = manifest.coverage.max_date - dt.timedelta(days=RECENT_DAYS)
    frame, _ = read_partitions(lake, dataset, manifest, start=start)
    return frame


def last_closes(lake: Lake) -> dict[str, tuple[dt.date, float]]:
    frame = _latest(lake, "prices", recent=True)
    if frame is None or frame.empty:
        return {}
    last = frame.sort_values("date").groupby("symbol").tail(1)
    return {
        str(s): (pd.Timestamp(d).date(), float(c))
        for s, d, c in zip(last["symbol"], last["date"], last["close"], strict=True)
    }


def last_report_dates(lake: Lake) -> dict[str, dt.date]:
    frame = _latest(lake, "fundamentals", recent=False)
    if frame is None or frame.empty:
        return {}
    latest = frame.groupby("symbol")["report_date"].max()
    return {str(s): pd.Timestamp(d).date() for s, d in latest.items()}


def current_members(lake: Lake, universes: list[str] | None = None) -> list[str]:
    frame = _latest(lake, "universe", recent=False)
    if frame is None or frame.empty:
        return []
    open_ = frame["end_date"].isna()
    if universes:
        open_ &= frame["universe"].isin(universes)
    return sorted(frame.loc[open_, "symbol"].astype(str).unique().tolist())


def new_rows(frame: pd.DataFrame, last: tuple[dt.date, float] | None) -> tuple[pd.DataFrame, bool]:
    """(rows after the lake's last date, whether the vendor re-based the history)."""
    if last is None or frame.empty:
        return frame, False
    day, close = pd.Timestamp(last[0]), last[1]
    overlap = frame.loc[frame["date"] == day, "close"]
    if len(overlap) and abs(float(overlap.iloc[0]) / close - 1) > REBASE_TOLERANCE:
        return frame, True
    return frame[frame["date"] > day].reset_index(drop=True), False


def symbols_for(request: FetchRequest, lake: Lake) -> list[str]:
    symbols = request.options.get("symbols")
    if symbols:
        return sorted({str(s).strip().upper() for s in symbols})
    members = current_members(lake, request.options.get("universes"))
    if not members:
        raise SourceConfigError(
            f"{request.source}: no symbols: pass options.symbols or ingest a universe first"
        )
    return members
