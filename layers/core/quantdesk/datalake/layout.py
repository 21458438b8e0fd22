"""Where things live in the data bucket, and how each dataset is keyed and partitioned.

Pure functions only (no I/O): the writer and reader, the pipeline and the tests all derive
keys from here.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from scenarios.frames import SCHEMAS

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

LAKE_PREFIX: Final = "lake"
SNAPSHOT_PREFIX: Final = "snapshots"
RAW_PREFIX: Final = "raw"
VALIDATED_PREFIX: Final = "validated"
QUARANTINE_PREFIX: Final = "quarantine"
LANDING_PREFIX: Final = "landing"
FILE_SUFFIX: Final = ".parquet"
#: symbol buckets per year for the big per-symbol datasets
SYMBOL_BUCKETS: Final = 8
ALL_PARTITION: Final = "all"


@dataclass(frozen=True)
class DatasetLayout:
    """How one dataset is stored.

    ``keys`` identify a row (a re-ingested row with the same keys replaces the old one);
    ``date_column`` drives year partitioning and coverage; ``bucketed`` splits each year by
    symbol bucket.
    """

    name: str
    keys: tuple[str, ...]
    date_column: str | None
    by_year: bool = False
    bucketed: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return SCHEMAS[self.name]

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c in DATE_COLUMNS)

    @property
    def has_symbol(self) -> bool:
        return "symbol" in self.columns


DATE_COLUMNS: Final = frozenset(
    {"date", "period_end", "report_date", "start_date", "end_date", "release_date"}
)

LAYOUTS: Final[dict[str, DatasetLayout]] = {
    "prices": DatasetLayout("prices", ("symbol", "date"), "date", by_year=True, bucketed=True),
    "sentiment": DatasetLayout(
        "sentiment", ("symbol", "date"), "date", by_year=True, bucketed=True
    ),
    "fundamentals": DatasetLayout("fundamentals", ("symbol", "period_end"), "report_date"),
    "earnings": DatasetLayout("earnings", ("symbol", "fiscal_period"), "report_date"),
    "macro": DatasetLayout("macro", ("series", "date"), "date"),
    "universe": DatasetLayout("universe", ("universe", "symbol", "start_date"), "start_date"),
    "sectors": DatasetLayout("sectors", ("symbol",), None),
}

DATASETS: Final = tuple(LAYOUTS)

#: columns added to a dataset after files were first stored: older partition files read them as
#: empty (a macro row without ``release_date`` is never visible to a scenario until re-ingested)
LATER_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"macro": ("release_date",)}


def layout(dataset: str) -> DatasetLayout:
    try:
        return LAYOUTS[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}") from None


def symbol_bucket(symbol: str) -> int:
    """Stable bucket of a symbol (crc32, not Python's salted ``hash``)."""
    return zlib.crc32(symbol.encode()) % SYMBOL_BUCKETS


def partition_name(year: int | None, bucket: int | None) -> str:
    if year is None:
        return ALL_PARTITION
    if bucket is None:
        return f"year={year:04d}"
    return f"year={year:04d}/bucket={bucket:02d}"


def parse_partition(name: str) -> tuple[int | None, int | None]:
    """``year=2024/bucket=03`` -> (2024, 3); ``all`` -> (None, None)."""
    year = bucket = None
    for part in name.split("/"):
        field, _, value = part.partition("=")
        if field == "year":
            year = int(value)
        elif field == "bucket":
            bucket = int(value)
    return year, bucket


def split_partitions(dataset: str, frame: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(partition name, rows)`` for every partition ``frame`` (canonical) touches."""

    spec = layout(dataset)
    if not spec.by_year or spec.date_column is None:
        if len(frame):
            yield ALL_PARTITION, frame
        return
    years = frame[spec.date_column].dt.year.to_numpy()
    if not spec.bucketed:
        for (year,), rows in frame.groupby([years], sort=True):
            yield partition_name(int(year), None), rows
        return
    codes, uniques = frame["symbol"].factorize()
    buckets = np.array([symbol_bucket(s) for s in uniques], dtype=np.int64)[codes]
    for (year, bucket), rows in frame.groupby([years, buckets], sort=True):
        yield partition_name(int(year), int(bucket)), rows


def wanted_partition(
    dataset: str,
    name: str,
    *,
    start: dt.date | None,
    end: dt.date | None,
    buckets: set[int] | None,
) -> bool:
    """Whether a reader of [start, end] and the given symbol buckets needs partition ``name``."""
    year, bucket = parse_partition(name)
    if year is not None:
        if start is not None and year < start.year:
            return False
        if end is not None and year > end.year:
            return False
    return not (bucket is not None and buckets is not None and bucket not in buckets)


def lake_key(dataset: str, partition: str, digest: str) -> str:
    return f"{LAKE_PREFIX}/{dataset}/{partition}/part-{digest[:16]}{FILE_SUFFIX}"


def manifest_key(dataset: str, snapshot_id: str) -> str:
    return f"{SNAPSHOT_PREFIX}/{dataset}/{snapshot_id}.json"


def raw_key(source: str, run_id: str, name: str) -> str:
    return f"{RAW_PREFIX}/{source}/{run_id}/{name}{FILE_SUFFIX}"


def validated_key(run_id: str, source: str, dataset: str) -> str:
    return f"{VALIDATED_PREFIX}/{run_id}/{source}/{dataset}{FILE_SUFFIX}"


def quarantine_key(run_id: str, source: str, dataset: str) -> str:
    return f"{QUARANTINE_PREFIX}/{run_id}/{source}/{dataset}{FILE_SUFFIX}"


def quarantine_payload_key(run_id: str, source: str, name: str) -> str:
    """A vendor payload rejected whole, kept as received (``name`` carries the vendor's ids)."""
    return f"{QUARANTINE_PREFIX}/{run_id}/{source}/payloads/{name}"


def quarantine_report_key(run_id: str, source: str) -> str:
    return f"{QUARANTINE_PREFIX}/{run_id}/{source}/report.json"
