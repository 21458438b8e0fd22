"""What the lake already holds, so online sources fetch only what is new (incremental fetches).

:func:`last_dates` reads the current snapshot of a dataset and returns the last ``date`` stored
per series or symbol, and whether that snapshot is synthetic (a synthetic watermark must not
stop a real vendor from backfilling).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import pandas as pd

from quantdesk.datalake.layout import layout
from quantdesk.datalake.reader import Lake, read_partitions
from quantdesk.datalake.snapshot_files import load_manifest

#: year-partitioned datasets: read only this far back from the snapshot's last date
RECENT_DAYS: Final = 400


@dataclass(frozen=True)
class Watermark:
    last: dict[str, pd.Timestamp]
    synthetic: bool = False

    def since(self, key: str) -> pd.Timestamp | None:
        """The last stored date of ``key``, or None when a full fetch is due."""
        return None if self.synthetic else self.last.get(key)


def last_dates(lake: Lake, dataset: str, by: str) -> Watermark:
    record = lake.snapshots.latest(dataset)
    if record is None or record.max_date is None:
        return Watermark({})
    start = None
    if layout(dataset).by_year:
        start = record.max_date - dt.timedelta(days=RECENT_DAYS)
    frame, _ = read_partitions(lake, dataset, load_manifest(lake.store, record), start=start)
    if frame.empty:
        return Watermark({}, record.synthetic)
    last = frame.groupby(by)["date"].max()
    return Watermark({str(k): pd.Timestamp(v) for k, v in last.items()}, record.synthetic)
