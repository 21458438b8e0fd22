"""The ingestion state machine's path, run in this process: each source through every step, a
failing source caught as the state machine's per-source ``Catch`` does, then the summary. The
pipeline tests and the ingestion benchmark drive the steps through it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quantdesk.ingestion.models import FetchInput, IngestionSummary, SourceOutcome
from quantdesk.ingestion.outcomes import failed_outcome, summarize
from quantdesk.ingestion.pipeline import (
    IngestionContext,
    fetch,
    new_run_id,
    publish,
    validate,
    write,
)
from quantdesk.ingestion.sources.base import FetchRequest


def run_source(request: FetchRequest, run_id: str, ctx: IngestionContext) -> SourceOutcome:
    fetched = fetch(FetchInput(run_id=run_id, request=request), ctx)
    return publish(write(validate(fetched, ctx), ctx), ctx)


def run_ingestion(
    requests: Iterable[FetchRequest],
    ctx: IngestionContext,
    *,
    run_id: str | None = None,
) -> IngestionSummary:
    """Run every source in turn (a failing source does not stop the others) and summarize."""
    started = ctx.clock()
    run_id = run_id or new_run_id(started)
    results: list[Any] = []
    for request in requests:
        try:
            results.append(run_source(request, run_id, ctx))
        except Exception as exc:  # mirrors the state machine's per-source Catch
            results.append(
                failed_outcome(
                    run_id, request.source, {"Error": type(exc).__name__, "Cause": str(exc)}
                )
            )
    return summarize(run_id, results, ctx, started_at=started.isoformat())
