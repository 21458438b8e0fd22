"""Ingestion Lambdas: one thin handler per step of ``statemachines/ingestion.asl.json``.

Each validates its input with pydantic, calls the matching :mod:`quantdesk.ingestion.pipeline`
step and returns its JSON. Errors propagate with their own type name so the state machine can
retry the transient ones (``SourceUnavailableError``, ``LakeStorageError``) and catch the rest
per source.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.ingestion import bulk, outcomes, pipeline
from quantdesk.ingestion.models import Fetched, FetchInput, Validated, Written
from quantdesk.observability import bind_run, logger
from quantdesk.settings import get_settings

SETTINGS = get_settings()


@functools.cache
def _ctx() -> pipeline.IngestionContext:
    return pipeline.IngestionContext.from_settings(SETTINGS)


class SummaryInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$")
    started_at: str | None = None
    results: list[dict[str, Any]]


class FileBatch(BaseModel):
    """One batch of a bulk load's Distributed Map: S3 objects of the landing prefix."""

    model_config = ConfigDict(extra="ignore")

    batch_input: FetchInput = Field(alias="BatchInput")
    items: list[dict[str, Any]] = Field(alias="Items", min_length=1)


@logger.inject_lambda_context(clear_state=True)
def fetch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fetch a source; a bulk ``files`` request collects the batches its map read, and a map
    item (a batch of files) is read on its own."""
    if "Items" in event:
        batch = FileBatch.model_validate(event)
        run_id, request = batch.batch_input.run_id, batch.batch_input.request
        bind_run(run_id)
        keys = [str(item["Key"]) for item in batch.items]
        logger.info("reading a batch of files", extra={"files": len(keys)})
        return bulk.read_batch(run_id, request, keys, _ctx().store)
    step = FetchInput.model_validate(event)
    bind_run(step.run_id)
    logger.info("fetching", extra={"source": step.request.source})
    read = None
    if bulk.is_bulk(step.request):
        read = functools.partial(bulk.collect, step.run_id, step.request, _ctx().store)
    return pipeline.fetch(step, _ctx(), read).model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
def validate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = Fetched.model_validate(event)
    bind_run(step.run_id)
    result = pipeline.validate(step, _ctx())
    quarantined = {d: v.report.rows_quarantined for d, v in result.datasets.items()}
    logger.info("validated", extra={"source": step.source, "quarantined": quarantined})
    return result.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
def write(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = Validated.model_validate(event)
    bind_run(step.run_id)
    result = pipeline.write(step, _ctx())
    logger.info("written", extra={"source": step.source, "skipped": result.skipped})
    return result.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
def publish(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = Written.model_validate(event)
    bind_run(step.run_id)
    outcome = pipeline.publish(step, _ctx())
    logger.info("published", extra={"source": step.source, "status": outcome.status})
    return outcome.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
def summarize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = SummaryInput.model_validate(event)
    bind_run(step.run_id)
    summary = outcomes.summarize(step.run_id, step.results, _ctx(), started_at=step.started_at)
    logger.info("ingestion finished", extra={"status": summary.status})
    return {"run_id": summary.run_id, "status": summary.status, "message": summary.message}
