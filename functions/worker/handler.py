"""Worker Lambda: the scenario-run state machine's compute jobs.

``job`` says which: ``run`` (default) computes a run in this one function; a sharded run's
``plan``, ``shard`` and ``reduce`` are in :mod:`quantdesk.runs.shards`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.observability import bind_run, logger
from quantdesk.runs import shards
from quantdesk.runs.models import ID_PATTERN, RUN_ID_PATTERN
from quantdesk.runs.worker_job import execute
from quantdesk.settings import get_settings

SETTINGS = get_settings()


class Shard(BaseModel):
    model_config = ConfigDict(extra="allow")
    index: int = Field(ge=0)
    symbols: list[str]


class WorkerEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    job: Literal["run", "plan", "shard", "reduce"] = "run"
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    scenario_id: str = Field(pattern=ID_PATTERN)
    params: dict[str, Any]
    #: the plan's output (``shard``, ``reduce``) and the shard to compute (``shard``)
    plan: dict[str, Any] | None = None
    shard: Shard | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = WorkerEvent.model_validate(event)
    bind_run(request.run_id)
    logger.info("worker job", extra={"job": request.job, "scenario_id": request.scenario_id})
    run_id, scenario_id, params = request.run_id, request.scenario_id, request.params
    if request.job == "plan":
        return shards.plan(run_id, scenario_id, params, SETTINGS)
    if request.job == "run":
        return execute(run_id, scenario_id, params, SETTINGS)
    if request.plan is None:
        raise ValueError(f"a {request.job} job needs the run's plan")
    if request.job == "reduce":
        return shards.reduce(run_id, scenario_id, params, request.plan, SETTINGS)
    if request.shard is None:
        raise ValueError("a shard job needs its shard")
    piece = request.shard.model_dump()
    return shards.shard(
        run_id, scenario_id, params, raw_plan=request.plan, piece=piece, settings=SETTINGS
    )
