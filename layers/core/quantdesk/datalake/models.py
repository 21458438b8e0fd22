"""Data lake records: partition files, snapshot manifests, snapshot items, readiness."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PartitionFile(BaseModel):
    """One immutable, content-addressed Parquet file of a dataset."""

    model_config = ConfigDict(frozen=True)

    partition: str = Field(description="e.g. 'year=2024/bucket=03' or 'all'")
    key: str = Field(description="S3 key in the data bucket")
    sha256: str
    rows: int
    bytes: int
    min_date: dt.date | None = None
    max_date: dt.date | None = None
    symbols: int = 0


class Coverage(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_date: dt.date | None = None
    max_date: dt.date | None = None
    symbols: int = 0


class UniverseSummary(BaseModel):
    """One universe of the ``universe`` dataset: how many symbols it holds now and ever."""

    model_config = ConfigDict(frozen=True)

    name: str
    members: int = Field(description="symbols with an open-ended membership")
    symbols: int = Field(description="symbols ever members (removed ones included)")
    first_date: dt.date | None = Field(None, description="earliest membership start")


class UniverseList(BaseModel):
    """``GET /analysis/universes``: the universes of the shared lake (the same for every
    caller), from its latest ``universe`` snapshot."""

    snapshot_id: str | None = Field(description="the universe snapshot listed; null: none yet")
    universes: list[UniverseSummary] | None = Field(
        description="null when that snapshot predates universe summaries (re-ingest universe)"
    )


class SnapshotManifest(BaseModel):
    """The complete list of files making up one snapshot of a dataset (JSON in S3)."""

    dataset: str
    files: list[PartitionFile]
    checksum: str = Field(description="sha256 over the sorted partition digests")
    row_count: int
    coverage: Coverage
    synthetic: bool = False
    sources: list[str] = Field(default_factory=list)
    symbols: list[str] = Field(default_factory=list, description="sorted symbols present")
    universes: list[UniverseSummary] | None = Field(
        None, description="``universe`` dataset only: its universes (None in older manifests)"
    )

    def by_partition(self) -> dict[str, PartitionFile]:
        return {f.partition: f for f in self.files}


class SnapshotRecord(BaseModel):
    """The immutable DynamoDB record of a published snapshot."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    snapshot_id: str
    created_at: str
    manifest_key: str
    checksum: str
    row_count: int
    file_count: int
    min_date: dt.date | None = None
    max_date: dt.date | None = None
    symbols: int = 0
    parent_id: str | None = None
    run_id: str | None = None
    sources: list[str] = Field(default_factory=list)
    synthetic: bool = False
    universes: list[UniverseSummary] | None = None


class DatasetReadiness(BaseModel):
    dataset: str
    snapshot_id: str | None = None
    synthetic: bool = False
    last_date: dt.date | None = None
    first_date: dt.date | None = None
    age_days: int | None = Field(None, description="days between the last data date and today")
    symbols_covered: int | None = None
    status: Literal["ok", "stale", "partial", "missing"] = "ok"
    note: str = ""


class ReadinessReport(BaseModel):
    """What the worker reports (as a ``progress`` event) before computing."""

    ready: bool
    universe: str
    start: dt.date
    end: dt.date | None
    symbols_requested: int = 0
    symbols_covered: int = 0
    missing_symbols: list[str] = Field(default_factory=list, description="first few only")
    missing_datasets: list[str] = Field(default_factory=list)
    datasets: list[DatasetReadiness] = Field(default_factory=list)
    snapshots: dict[str, str] = Field(default_factory=dict)
    message: str
