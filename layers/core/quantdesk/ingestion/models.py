"""Step payloads of the ingestion workflow: what each Lambda receives and returns.

They are small JSON documents (Step Functions caps payloads at 256 KB); frames travel through
the data bucket, referenced by key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.datalake.writer import StagedSnapshot
from quantdesk.ingestion.registration import Registration, Target
from quantdesk.ingestion.sources.base import FetchRequest, FileIssue
from quantdesk.ingestion.validation import DatasetReport

Status = Literal["succeeded", "succeeded_with_warnings", "failed"]


class StepInput(BaseModel):
    """Common fields every step receives."""

    model_config = ConfigDict(extra="ignore")

    run_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$")


class FetchInput(StepInput):
    request: FetchRequest


class Fetched(StepInput):
    source: str
    staged: dict[str, str] = Field(description="dataset -> raw-zone key of the fetched frame")
    rows: dict[str, int] = Field(default_factory=dict)
    synthetic: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)
    issues: list[FileIssue] = Field(default_factory=list)
    fingerprint: str | None = Field(None, description="identity of the source batch")
    already_applied: str | None = Field(None, description="run that ingested this batch")
    target: Target | None = Field(None, description="the universe new symbols join")


class ValidatedDataset(BaseModel):
    valid_key: str | None = None
    batch_sha: str | None = None
    report: DatasetReport


class Validated(StepInput):
    source: str
    synthetic: bool = False
    datasets: dict[str, ValidatedDataset]
    issues: list[FileIssue] = Field(default_factory=list)
    report_key: str | None = None
    fingerprint: str | None = None
    already_applied: str | None = None
    registered: Registration | None = None


class Written(StepInput):
    source: str
    synthetic: bool = False
    staged: dict[str, StagedSnapshot] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(default_factory=dict, description="dataset -> why")
    validated: Validated


class DatasetOutcome(BaseModel):
    dataset: str
    snapshot_id: str | None = Field(None, description="new snapshot; None if unchanged")
    current_snapshot_id: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_added: int = 0
    rows_replaced: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    unchanged: bool = False


class SourceOutcome(BaseModel):
    run_id: str
    source: str
    status: Status
    synthetic: bool = False
    datasets: list[DatasetOutcome] = Field(default_factory=list)
    issues: list[FileIssue] = Field(default_factory=list)
    report_key: str | None = None
    error: str | None = Field(None, description="why the source failed, when it did")
    already_applied: str | None = Field(None, description="run that ingested this batch")
    registered: Registration | None = Field(None, description="new symbols this batch registered")
    message: str = ""


class IngestionSummary(BaseModel):
    run_id: str
    status: Status
    started_at: str | None = None
    finished_at: str
    sources: list[SourceOutcome]
    snapshots: dict[str, str] = Field(default_factory=dict, description="new snapshots")
    message: str
