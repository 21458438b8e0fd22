"""Projector Lambda: run-item stream records -> ordered, immutable run events.

Fed by the table's DynamoDB Stream through an event-source mapping whose filter lets only run
items through. Partial batch failures keep each run in order (``ordered_batch``): a failed
record and the later records of its run are reported and redelivered; storing is idempotent by
sequence number (a conditional put on ``EVT#<seq>``), so a retried batch never duplicates or
reorders events. A computed run's ``succeeded`` write also makes it the result cache's entry for
its request (idempotent too). A write that ends a run gives the run's in-flight slot back
(``slots``), after its event is stored, so a failed release never delays the event.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from ordered_batch import RunOrderedBatchProcessor

from quantdesk.observability import bind_run, logger
from quantdesk.runs.cache import ResultCache
from quantdesk.runs.events import event_from_image
from quantdesk.runs.limits import RunLimits
from quantdesk.runs.repository import RunRepository, run_from_item
from quantdesk.runs.slots import release_if_ended
from quantdesk.settings import get_settings

SETTINGS = get_settings()
processor = RunOrderedBatchProcessor()
repository = RunRepository(SETTINGS.table_name)
cache = ResultCache(SETTINGS.table_name)
limits = RunLimits.configured(SETTINGS)


def project(record: DynamoDBRecord) -> None:
    change = record.raw_event["dynamodb"]
    image = change.get("NewImage")
    if not image:  # REMOVE: runs are never deleted by the product
        return
    event = event_from_image(image)
    bind_run(event.run_id)
    if event.event == "status" and event.status == "succeeded":
        # before the event: whoever sees the run succeed can already get it from the cache
        cache.remember(run_from_item(image))
    stored = repository.put_event(event)
    logger.debug("event projected", extra={"seq": event.seq, "new": stored})
    release_if_ended(limits, change)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event, record_handler=project, processor=processor, context=context
    )
