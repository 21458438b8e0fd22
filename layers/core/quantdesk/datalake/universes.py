"""The lake's universes, as the latest ``universe`` snapshot summarises them.

The writer summarises the ``universe`` dataset into its manifest and snapshot record
(:func:`summarize_universes`); the API reads the record (:func:`lake_universes`), one DynamoDB
read and no pandas, to list universes and to refuse a run on one the lake does not know.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.datalake.models import UniverseList, UniverseSummary

if TYPE_CHECKING:
    import pandas as pd

    from quantdesk.datalake.repository import SnapshotRepository


def summarize_universes(frame: pd.DataFrame) -> list[UniverseSummary]:
    """Per universe of a ``universe`` frame: open-ended members, symbols ever, first start."""
    out = []
    for name, rows in frame.groupby("universe", sort=True):
        starts = rows["start_date"].dropna()
        out.append(
            UniverseSummary(
                name=str(name),
                members=int(rows.loc[rows["end_date"].isna(), "symbol"].nunique()),
                symbols=int(rows["symbol"].nunique()),
                first_date=starts.min().date() if len(starts) else None,
            )
        )
    return out


def lake_universes(snapshots: SnapshotRepository) -> UniverseList:
    """The universes of the latest ``universe`` snapshot (none before one is published)."""
    record = snapshots.latest("universe")
    if record is None:
        return UniverseList(snapshot_id=None, universes=[])
    return UniverseList(snapshot_id=record.snapshot_id, universes=record.universes)
