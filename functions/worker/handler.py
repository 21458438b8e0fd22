"""Worker Lambda: computes one scenario run (invoked by the scenario-run state machine)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.observability import bind_run, logger
from quantdesk.runs.models import ID_PATTERN, RUN_ID_PATTERN
from quantdesk.runs.worker_job import execute
from quantdesk.settings import get_settings

SETTINGS = get_settings()


class WorkerEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    scenario_id: str = Field(pattern=ID_PATTERN)
    params: dict[str, Any]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = WorkerEvent.model_validate(event)
    bind_run(request.run_id)
    logger.info("computing scenario", extra={"scenario_id": request.scenario_id})
    return execute(request.run_id, request.scenario_id, request.params, SETTINGS)
