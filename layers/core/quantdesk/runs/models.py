"""Run models: the API's request/response bodies and the stored run."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.runs.ids import RUN_ID_PATTERN
from scenarios.base import ScenarioResult

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
EventKind = Literal["status", "progress", "result", "error"]
TERMINAL: Final[frozenset[str]] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
ID_PATTERN: Final = r"^[a-z0-9_]{1,64}$"


class Provenance(BaseModel):
    """Where the run came from: the prompt and the card the researcher picked."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(None, max_length=2000)
    rank: int | None = Field(None, ge=1, le=100, description="the chosen card's rank")
    engine: dict[str, Any] | None = None
    suggest_id: str | None = Field(
        None,
        pattern=RUN_ID_PATTERN,
        description="the suggest the card came from (its response's suggest_id): with rank, "
        "it records the choice in the caller's prompt analytics",
    )


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_id: str = Field(pattern=ID_PATTERN, description="catalogue id of the scenario")
    params: dict[str, Any] = Field(default_factory=dict, description="the scenario's inputs")
    idempotency_key: str | None = Field(None, min_length=1, max_length=128)
    provenance: Provenance | None = None
    fresh: bool = Field(
        False, description="compute anew even when an identical run's result is cached"
    )


class RunAccepted(BaseModel):
    run_id: str
    status: RunStatus
    stream_url: str
    status_url: str
    cached: bool = Field(False, description="answered from the result cache: already succeeded")
    cached_from: str | None = Field(None, description="the run whose result a cached run reuses")


class Progress(BaseModel):
    step: str
    percent: float = Field(ge=0, le=100)
    message: str = ""


class RunError(BaseModel):
    type: str
    message: str


class RunManifest(BaseModel):
    """Everything needed to reproduce a run: same manifest + same data => same result."""

    scenario_id: str
    scenario_version: str
    params: dict[str, Any]
    data_snapshots: dict[str, str] = Field(default_factory=dict)
    code_version: str
    provenance: Provenance | None = None
    timings: dict[str, float] = Field(default_factory=dict)


class Run(BaseModel):
    run_id: str
    owner: str
    scenario_id: str
    status: RunStatus
    watch_id: str | None = Field(None, description="the watch whose firing this run is")
    created_at: str
    updated_at: str
    started_at: str | None = None
    finished_at: str | None = None
    event_seq: int
    manifest: RunManifest
    progress: Progress | None = None
    error: RunError | None = None
    result_key: str | None = None
    result_summary: dict[str, Any] | None = None
    #: report and export objects in the results bucket, by kind (``report``, ``csv``, ...)
    artifacts: dict[str, str] = Field(default_factory=dict)
    cached: bool = False
    cached_from: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _absent(value: object) -> bool:
    return value is None


class RunEvent(BaseModel):
    """One immutable, ordered event of a run (what the SSE stream carries); the optional parts
    are left out, not sent as null, when the event does not carry them."""

    run_id: str
    seq: int
    event: EventKind
    status: RunStatus
    at: str
    progress: Progress | None = Field(None, exclude_if=_absent)
    error: RunError | None = Field(None, exclude_if=_absent)
    result_summary: dict[str, Any] | None = Field(None, exclude_if=_absent)

    def data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class RunView(Run):
    """``GET /analysis/runs/{id}``: the run without its owner and storage key, its events so far
    and, once it succeeded, its result."""

    owner: str = Field(exclude=True)
    result_key: str | None = Field(None, exclude=True)
    artifacts: dict[str, str] = Field(default_factory=dict, exclude=True)
    timeline: list[RunEvent]
    result: ScenarioResult | None = None
    stream_url: str = Field(
        description="a fresh stream URL (stream tokens live minutes; every read renews it)"
    )


class CancelResult(BaseModel):
    """``POST /analysis/runs/{id}/cancel``."""

    run_id: str
    status: RunStatus


class RunListQuery(BaseModel):
    """``GET /analysis/runs`` query string."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2048, description="next_cursor of the last page")


class RunSummary(BaseModel):
    run_id: str
    scenario_id: str
    status: RunStatus
    watch_id: str | None = Field(None, description="the watch whose firing this run is")
    created_at: str
    updated_at: str
    duration_ms: int | None = None
    cached: bool = False
    cached_from: str | None = None


class RunSummaryPage(BaseModel):
    runs: list[RunSummary]
    next_cursor: str | None = None


ExportFormat = Literal["csv", "json", "parquet"]


class ExportQuery(BaseModel):
    """``GET /analysis/runs/{id}/export`` query string."""

    model_config = ConfigDict(extra="forbid")

    format: ExportFormat = Field(description="csv, json or parquet")


class ArtifactLink(BaseModel):
    """A short-lived link to a run's report or export (a presigned S3 URL: the file never
    passes through the API)."""

    run_id: str
    kind: Literal["report", "csv", "json", "parquet"]
    url: str = Field(description="presigned GET URL of the file; expires at expires_at")
    expires_at: str
    manifest: RunManifest
