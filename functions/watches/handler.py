"""Watch Lambdas, one handler per trigger:

* ``snapshots_published``: the EventBridge rule on the ingestion machine's SUCCEEDED executions;
  fires the snapshot watches of every dataset that got a new snapshot;
* ``scheduled``: each scheduled watch's EventBridge Scheduler schedule; fires that watch;
* ``run_succeeded``: the EventBridge rule on the scenario-run machine's SUCCEEDED executions;
  diffs a watch run's result against the previous one and sends the alert;
* ``deliver``: the webhook delivery queue (SQS, partial batch responses): one message per
  webhook, retried with exponential backoff, then left to the queue's dead-letter queue.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field

from quantdesk import aws
from quantdesk.observability import bind_run, logger
from quantdesk.runs.models import RUN_ID_PATTERN
from quantdesk.settings import get_settings
from quantdesk.watches.alerts import retry_delay_s
from quantdesk.watches.models import WATCH_ID_PATTERN
from quantdesk.watches.service import WatchService
from quantdesk.watches.settings import WatchSettings


class ExecutionDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=80, description="the run id / ingestion id")
    status: str


class ExecutionSucceeded(BaseModel):
    model_config = ConfigDict(extra="ignore")
    detail: ExecutionDetail


class ScheduledFiring(BaseModel):
    model_config = ConfigDict(extra="ignore")
    watch_id: str = Field(pattern=WATCH_ID_PATTERN)
    scheduled_time: str = Field(min_length=1, max_length=64)


class DeliveryMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = Field(min_length=1)
    watch_id: str = Field(pattern=WATCH_ID_PATTERN)
    alert_id: str = Field(pattern=RUN_ID_PATTERN)
    delivery: int = Field(ge=0)


WATCH_SETTINGS = WatchSettings.for_lambda()
# an all-failed batch is reported item by item too (each message keeps its own backoff)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@functools.cache
def _service() -> WatchService:
    return WatchService(get_settings(), WATCH_SETTINGS)


@logger.inject_lambda_context(clear_state=True)
def snapshots_published(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from quantdesk.datalake.repository import SnapshotRepository  # noqa: PLC0415 - one trigger

    ingestion_id = ExecutionSucceeded.model_validate(event).detail.name
    bind_run(ingestion_id)
    summary = SnapshotRepository(get_settings().table_name).get_ingestion(ingestion_id) or {}
    datasets = sorted((summary.get("snapshots") or {}).keys())
    fired = _service().snapshots_published(ingestion_id, datasets)
    logger.info("snapshot watches fired", extra={"datasets": datasets, "runs": fired})
    return {"datasets": datasets, "runs": fired}


@logger.inject_lambda_context(clear_state=True)
def scheduled(event: dict[str, Any], context: Any) -> dict[str, Any]:
    firing = ScheduledFiring.model_validate(event)
    run_id = _service().fire(firing.watch_id, f"schedule:{firing.scheduled_time}")
    return {"watch_id": firing.watch_id, "run_id": run_id}


@logger.inject_lambda_context(clear_state=True)
def run_succeeded(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run_id = ExecutionSucceeded.model_validate(event).detail.name
    bind_run(run_id)
    alert = _service().evaluate(run_id)
    return {"run_id": run_id, "alert": alert.alert_id if alert else None}


def _deliver_one(record: SQSRecord) -> None:
    message = DeliveryMessage.model_validate_json(record.body)
    bind_run(message.alert_id)  # an alert's id is the id of the run that raised it
    attempt = int(record.attributes.approximate_receive_count)
    try:
        _service().delivery.send_webhook(message.owner, message.alert_id, message.delivery, attempt)
    except Exception:
        # exponential backoff: the message comes back after a growing delay, and after the
        # queue's maxReceiveCount it moves to the dead-letter queue
        aws.client("sqs").change_message_visibility(
            QueueUrl=WATCH_SETTINGS.delivery_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=retry_delay_s(attempt),
        )
        raise


@logger.inject_lambda_context(clear_state=True)
def deliver(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event, record_handler=_deliver_one, processor=processor, context=context
    )
