"""A DynamoDB-stream event-source mapping for the local cloud, behaving like Lambda's.

moto's own mappings invoke synchronously inside the table write and then clear the shard, so
we poll the stream ourselves, per shard and in order:

* **batching**: up to ``batch_size`` records per invocation; with ``max_batching_window_s``
  the poller keeps reading until the batch is full or the window has passed;
* **filter criteria**: records matching none of the patterns are dropped (never delivered, but
  checkpointed), as on AWS;
* **delivery** through the Lambda Invoke API, so the handler gets AWS's event shape
  (``eventSourceARN``, epoch-second ``ApproximateCreationDateTime``);
* **checkpointing**: ``checkpoints[shard]`` advances only past records the function processed
  (or that were filtered out or discarded); the shard blocks until then, so order holds;
* **partial batch responses**: with ``report_batch_item_failures`` the function's
  ``batchItemFailures`` checkpoint just before the lowest reported record, and delivery resumes
  from it;
* **retries**: a failed batch is retried with backoff; a function error is **bisected** when
  ``bisect_on_error`` is set (halving does not count as a retry); after
  ``maximum_retry_attempts`` the failing record (or, for an unbisected function error, the
  batch) is skipped, and so is a record older than ``maximum_record_age_s``;
* **on-failure destination**: every skipped batch is described on the mapping's SQS queue in
  the shape Lambda sends (``DDBStreamBatchInfo`` with the shard and sequence range, the
  condition and the attempt count): the records stay readable in the stream for redrive.

:func:`mapping_from_stack` builds the mapping from the template's
``AWS::Lambda::EventSourceMapping``; :func:`neutralise` disables the copy the endpoint's
CloudFormation created, so this poller stays the one consumer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infrastructure.local import foreground
from infrastructure.local.event_filter import matches
from infrastructure.resources import StreamMapping
from quantdesk.runs.dead_letters import lambda_record

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

log = logging.getLogger("quantdesk.local.stream")


@dataclass(frozen=True)
class Invocation:
    """What one delivery attempt sent and got back (kept for tests and diagnostics)."""

    sequence_numbers: tuple[str, ...]
    function_error: bool
    failed_at: int | None


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


class StreamPoller:
    def __init__(
        self,
        mapping: StreamMapping,
        stream_arn: str,
        streams: Any,
        lambda_client: Any,
        *,
        interval_s: float = 0.02,
        idle_interval_s: float = 0.1,
        retry_backoff_s: float = 0.02,
        history: int = 1000,
        sqs: Any = None,
    ) -> None:
        self.mapping = mapping
        self.stream_arn = stream_arn
        self._streams = streams
        self._lambda = lambda_client
        self._sqs = sqs
        self._queue_url: str | None = None
        self.interval_s = interval_s
        self.idle_interval_s = idle_interval_s
        self.retry_backoff_s = retry_backoff_s
        self._history = history
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stream-poller", daemon=True)
        self._iterators: dict[str, str] = {}
        #: shard id -> sequence number of the last record done with (processed/filtered/skipped)
        self.checkpoints: dict[str, str] = {}
        self.delivered = 0
        self.dropped_by_filter = 0
        #: sequence numbers skipped after retries or for their age (sent to the destination)
        self.skipped: list[str] = []
        #: the latest delivery attempts, oldest first (bounded by ``history``)
        self.invocations: list[Invocation] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, iterator_type: str = "LATEST") -> None:
        self.open_shards(iterator_type)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def open_shards(self, iterator_type: str = "LATEST") -> None:
        description = self._streams.describe_stream(StreamArn=self.stream_arn)
        for shard in description["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._iterator(shard_id, iterator_type)

    def _iterator(self, shard_id: str, iterator_type: str) -> str:
        """Just after the shard's checkpoint when it has one (a restart), else
        ``iterator_type``. A checkpoint the shard does not hold (its records were lost) would
        skip every later record: it is dropped and the shard read from its start."""
        position = self.checkpoints.get(shard_id)
        where: dict[str, str] = {"ShardIteratorType": iterator_type}
        if position and self._holds(shard_id, position):
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
        elif position:
            log.warning("shard %s has no record %s: reading it from the start", shard_id, position)
            del self.checkpoints[shard_id]
            where = {"ShardIteratorType": "TRIM_HORIZON"}
        return str(
            self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **where)[
                "ShardIterator"
            ]
        )

    def _holds(self, shard_id: str, position: str) -> bool:
        at = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=position,
        )["ShardIterator"]
        records = self._streams.get_records(ShardIterator=at, Limit=1)["Records"]
        return bool(records) and sequence_number(records[0]) == position

    def _loop(self) -> None:
        """Poll every ``interval_s`` while records flow; each empty poll doubles the wait, up
        to ``idle_interval_s`` (an idle stream costs a few reads a second, not fifty)."""
        wait = self.interval_s
        while not self._stop.is_set():
            foreground.yield_to_foreground()
            try:
                busy = self.poll_once()
            except Exception:  # keep polling, as the managed service does
                log.exception("stream poll failed")
                self._stop.wait(0.5)
                continue
            if busy:
                wait = self.interval_s
            else:
                self._stop.wait(wait)
                wait = min(wait * 2, self.idle_interval_s)

    # -- polling ------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Read and deliver what every shard has now; the number of records read."""
        total = 0
        for shard_id in list(self._iterators):
            records = self._read_batch(shard_id)
            if records:
                self._process(shard_id, records)
                total += len(records)
        return total

    def _read_batch(self, shard_id: str) -> list[dict[str, Any]]:
        records = self._read(shard_id, self.mapping.batch_size)
        window = self.mapping.max_batching_window_s
        if not records or window <= 0:
            return records
        deadline = time.monotonic() + window
        while len(records) < self.mapping.batch_size and shard_id in self._iterators:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stop.wait(min(self.interval_s, remaining)):
                break
            records += self._read(shard_id, self.mapping.batch_size - len(records))
        return records

    def _read(self, shard_id: str, limit: int) -> list[dict[str, Any]]:
        response = self._streams.get_records(ShardIterator=self._iterators[shard_id], Limit=limit)
        following = response.get("NextShardIterator")
        if following:
            self._iterators[shard_id] = following
        else:  # the shard was closed and is fully read
            del self._iterators[shard_id]
        return list(response["Records"])

    def _process(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        patterns = self.mapping.filter_patterns
        selected = [r for r in records if not patterns or any(matches(p, r) for p in patterns)]
        self.dropped_by_filter += len(records) - len(selected)
        if selected:
            self._deliver(shard_id, [lambda_record(r, self.stream_arn) for r in selected])
        if not self._stop.is_set():
            self.checkpoints[shard_id] = sequence_number(records[-1])

    # -- delivery -----------------------------------------------------------------------------

    def _deliver(self, shard_id: str, pending: list[dict[str, Any]]) -> None:
        size = len(pending)
        attempts = 0
        while pending and not self._stop.is_set():
            expired = self._expired(pending)
            if expired:
                self._skip(shard_id, pending[:expired], "RecordAgeExceeded", attempts)
                pending, size, attempts = pending[expired:], self.mapping.batch_size, 0
                continue
            batch = pending[:size]
            failed_at, function_error = self._invoke(batch)
            attempts += 1
            if failed_at is None:
                self._done(shard_id, batch)
                pending, size, attempts = pending[len(batch) :], self.mapping.batch_size, 0
                continue
            if failed_at > 0:  # progress: checkpoint before the first failure
                self._done(shard_id, batch[:failed_at])
                pending, attempts = pending[failed_at:], 1
            if function_error and self.mapping.bisect_on_error and len(batch) > 1:
                size = (len(batch) + 1) // 2
                attempts -= 1  # halving does not count as a retry
                continue
            if attempts > self.mapping.maximum_retry_attempts:
                # an unbisected function error skips its whole batch, else the one record
                count = len(batch) if function_error and not self.mapping.bisect_on_error else 1
                self._skip(shard_id, pending[:count], "RetryAttemptsExhausted", attempts)
                pending, size, attempts = pending[count:], self.mapping.batch_size, 0
                continue
            self._stop.wait(min(self.retry_backoff_s * 2 ** (attempts - 1), 1.0))

    def _expired(self, pending: list[dict[str, Any]]) -> int:
        """How many leading records are older than the mapping's maximum record age."""
        limit = self.mapping.maximum_record_age_s
        if limit < 0:
            return 0
        oldest_allowed = time.time() - limit
        count = 0
        for record in pending:
            if record["dynamodb"].get("ApproximateCreationDateTime", oldest_allowed) >= (
                oldest_allowed
            ):
                break
            count += 1
        return count

    def _skip(self, shard_id: str, records: list[dict[str, Any]], why: str, tries: int) -> None:
        """Move past ``records`` and describe them on the on-failure destination."""
        self.skipped += [sequence_number(r) for r in records]
        log.error("skipping stream records (%s): %s", why, self.skipped[-1])
        self._send_to_destination(shard_id, records, why, tries)
        self.checkpoints[shard_id] = sequence_number(records[-1])

    def _send_to_destination(
        self, shard_id: str, records: list[dict[str, Any]], why: str, tries: int
    ) -> None:
        if not self.mapping.on_failure:
            return
        if self._sqs is None:
            raise RuntimeError("an on-failure destination needs an SQS client")
        if self._queue_url is None:
            queue = self.mapping.on_failure.rsplit(":", 1)[-1]
            self._queue_url = self._sqs.get_queue_url(QueueName=queue)["QueueUrl"]

        def arrival(record: dict[str, Any]) -> str:
            created = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
            return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping.function,
                "condition": why,
                "approximateInvokeCount": tries,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence_number(records[0]),
                "endSequenceNumber": sequence_number(records[-1]),
                "approximateArrivalOfFirstRecord": arrival(records[0]),
                "approximateArrivalOfLastRecord": arrival(records[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(message))

    def _done(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        self.delivered += len(batch)
        self.checkpoints[shard_id] = sequence_number(batch[-1])

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """Deliver a batch: (index of the first failed record or None, was it a function
        error)."""
        response = self._lambda.invoke(
            FunctionName=self.mapping.function,
            Payload=json.dumps({"Records": batch}, default=str).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        failed_at: int | None = None
        function_error = bool(response.get("FunctionError"))
        if function_error:
            log.warning("stream batch failed: %s", payload)
            failed_at = 0
        elif self.mapping.report_batch_item_failures and isinstance(payload, dict):
            failed_at = self._first_failure(batch, payload.get("batchItemFailures") or [])
        self._record(batch, function_error, failed_at)
        return failed_at, function_error

    @staticmethod
    def _first_failure(batch: list[dict[str, Any]], failures: list[dict[str, Any]]) -> int | None:
        """Lambda resumes at the lowest reported sequence number; an identifier that is empty
        or not in the batch fails the whole batch."""
        if not failures:
            return None
        positions = {sequence_number(r): i for i, r in enumerate(batch)}
        indexes = [positions.get(str(f.get("itemIdentifier") or ""), 0) for f in failures]
        return min(indexes)

    def _record(self, batch: list[dict[str, Any]], error: bool, failed_at: int | None) -> None:
        self.invocations.append(
            Invocation(tuple(sequence_number(r) for r in batch), error, failed_at)
        )
        del self.invocations[: -self._history]


def mapping_from_stack(stack: DeployedStack, logical: str, function: str) -> StreamMapping:
    """The template's event-source mapping ``logical`` as this poller runs it; ``function`` is
    the target's physical name."""
    props = stack.resources_of("AWS::Lambda::EventSourceMapping")[logical]
    filters = (props.get("FilterCriteria") or {}).get("Filters") or []
    on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return StreamMapping(
        function=function,
        batch_size=int(props.get("BatchSize", 100)),
        max_batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        # CloudFormation's -1 (the default) is "retry until the record expires"
        maximum_retry_attempts=_retries(int(props.get("MaximumRetryAttempts", -1))),
        maximum_record_age_s=int(props.get("MaximumRecordAgeInSeconds", -1)),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        report_batch_item_failures="ReportBatchItemFailures"
        in (props.get("FunctionResponseTypes") or []),
        filter_patterns=tuple(json.loads(f["Pattern"]) for f in filters),
        on_failure=str(stack.resolve(on_failure)) if on_failure else "",
    )


def _retries(value: int) -> int:
    return 10_000 if value < 0 else value


_neutralised = False


def neutralise(lambda_client: Any, mapping_uuid: str) -> None:
    """Disable the endpoint's own copy of a stream mapping. moto 5.2.5 delivers DynamoDB
    stream records synchronously inside the table write (and then clears the shard) for every
    mapping, even a disabled one: :func:`honour_disabled_mappings` makes it honour
    ``Enabled=False`` as Lambda does, and the mapping is disabled through the Lambda API."""
    honour_disabled_mappings()
    lambda_client.update_event_source_mapping(UUID=mapping_uuid, Enabled=False)


def honour_disabled_mappings() -> None:
    """Patch moto so a disabled stream mapping delivers nothing and the records stay in the
    shard (installed before a restore too: replayed table writes must keep their records for
    our poller)."""
    global _neutralised
    if not _neutralised:
        from moto.awslambda.models import LambdaBackend

        original = LambdaBackend.send_dynamodb_items

        def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> Any:
            mappings = [
                esm
                for esm in self._event_source_mappings.values()
                if esm.function_arn == function_arn and esm.event_source_arn == source
            ]
            if mappings and not any(esm.enabled for esm in mappings):
                return ""  # nothing delivered: the shard keeps its records for our poller
            return original(self, function_arn, items, source)

        LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign]
        _neutralised = True
