"""Reconciler Lambdas: end runs whose workflow ended without ending them.

* ``execution_ended``: target of the EventBridge rule on the scenario-run machine's
  "Step Functions Execution Status Change" events (FAILED, TIMED_OUT, ABORTED);
* ``sweep``: target of a schedule; ends runs left ``queued`` (or ``running``) past a bound whose
  execution is missing or over.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.observability import bind_run, logger
from quantdesk.runs.executions import Executions
from quantdesk.runs.models import RUN_ID_PATTERN
from quantdesk.runs.reconciler import RunReconciler
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import EnvSettings, get_settings


class SweepSettings(EnvSettings):
    env_prefix: ClassVar[str] = "QD_SWEEP_"

    queued_after_s: float = Field(
        300, gt=0, description="a run still queued this long is checked against its execution"
    )
    running_after_s: float = Field(
        1200,
        gt=0,
        description="a running run without an update this long is checked (above the worker's "
        "15-minute timeout)",
    )


class ExecutionDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(pattern=RUN_ID_PATTERN, description="the execution name is the run id")
    status: str
    error: str | None = None
    cause: str | None = None


class ExecutionStatusChange(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    detail_type: str = Field(alias="detail-type")
    detail: ExecutionDetail


SETTINGS = get_settings()
SWEEP = SweepSettings.from_env()
reconciler = RunReconciler(
    RunRepository(SETTINGS.table_name), Executions(SETTINGS.scenario_run_arn)
)


@logger.inject_lambda_context(clear_state=True)
def execution_ended(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = ExecutionStatusChange.model_validate(event)
    detail = change.detail
    bind_run(detail.name)
    ended = reconciler.execution_ended(detail.name, detail.status, detail.error, detail.cause)
    logger.info("execution ended", extra={"execution_status": detail.status, "run_ended": ended})
    return {"run_id": detail.name, "ended": ended}


@logger.inject_lambda_context(clear_state=True)
def sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = reconciler.sweep(SWEEP.queued_after_s, SWEEP.running_after_s, dt.datetime.now(dt.UTC))
    logger.info("swept runs", extra={"checked": report.checked, "ended": report.ended})
    return {"checked": report.checked, "ended": report.ended}
