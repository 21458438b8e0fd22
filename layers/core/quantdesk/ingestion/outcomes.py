"""What an ingestion came to: each source's status and one-line message, a source that failed
before publishing, and the run's summary (stored as the ingestion run's item)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from quantdesk.ingestion.models import DatasetOutcome, IngestionSummary, SourceOutcome, Status
from quantdesk.step_function_errors import readable_error

if TYPE_CHECKING:
    from quantdesk.ingestion.pipeline import IngestionContext


def source_status(outcomes: list[DatasetOutcome], issues: int) -> Status:
    loaded = sum(o.rows_loaded for o in outcomes)
    quarantined = sum(o.rows_quarantined for o in outcomes)
    errors = issues + sum(len(o.errors) for o in outcomes)
    if loaded == 0 and (errors or quarantined or not outcomes):
        return "failed"
    if errors or quarantined:
        return "succeeded_with_warnings"
    return "succeeded"


def source_message(outcome: SourceOutcome) -> str:
    parts = []
    for o in outcome.datasets:
        state = f"snapshot {o.snapshot_id}" if o.snapshot_id else "unchanged"
        text = f"{o.dataset}: {o.rows_loaded}/{o.rows_in} rows loaded ({state})"
        if o.rows_quarantined:
            top = ", ".join(f"{k}={v}" for k, v in list(o.reasons.items())[:4])
            text += f", {o.rows_quarantined} quarantined [{top}]"
        parts.append(text)
    if outcome.registered:
        parts.append(outcome.registered.message)
    parts.extend(f"{i.file}: {i.reason}" for i in outcome.issues)
    if not parts:
        parts.append("nothing fetched")
    label = " (SYNTHETIC)" if outcome.synthetic else ""
    return f"{outcome.source}{label} {outcome.status}: " + "; ".join(parts)


def failed_outcome(run_id: str, source: str, error: Any) -> SourceOutcome:
    outcome = SourceOutcome(run_id=run_id, source=source, status="failed")
    outcome.error = readable_error(error)
    outcome.message = f"{source} failed: {outcome.error}"
    return outcome


def _as_outcome(run_id: str, item: Any) -> SourceOutcome:
    if isinstance(item, SourceOutcome):
        return item
    if isinstance(item, dict) and "status" in item:
        return SourceOutcome.model_validate(item)
    source = "unknown"
    if isinstance(item, dict):
        request = item.get("request") or {}
        source = str(request.get("source") or item.get("source") or source)
        return failed_outcome(run_id, source, item.get("error"))
    return failed_outcome(run_id, source, item)


def summarize(
    run_id: str,
    results: Iterable[Any],
    ctx: IngestionContext,
    *,
    started_at: str | None = None,
) -> IngestionSummary:
    """Overall status over all sources, stored as the ingestion run's item."""
    outcomes = [_as_outcome(run_id, item) for item in results]
    statuses = {o.status for o in outcomes}
    status: Status
    if not outcomes or statuses == {"failed"}:
        status = "failed"
    elif statuses == {"succeeded"}:
        status = "succeeded"
    else:
        status = "succeeded_with_warnings"
    snapshots = {d.dataset: d.snapshot_id for o in outcomes for d in o.datasets if d.snapshot_id}
    message = f"ingestion {status}. " + " | ".join(o.message for o in outcomes)
    summary = IngestionSummary(
        run_id=run_id,
        status=status,
        started_at=started_at,
        finished_at=ctx.clock().isoformat(),
        sources=outcomes,
        snapshots=snapshots,
        message=message,
    )
    ctx.snapshots.put_ingestion(
        run_id, started_at or summary.finished_at, summary.model_dump(mode="json")
    )
    return summary
