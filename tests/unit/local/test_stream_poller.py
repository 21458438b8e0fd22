"""The local event-source mapping's semantics against a scripted stream and function:
batching, batching window, filters, checkpoints, partial batch responses, retries, bisection and
skipping to the on-failure destination (retries exhausted, record too old), promptly stoppable."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from infrastructure.local.stream_poller import StreamPoller
from infrastructure.resources import StreamMapping

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/1"
DLQ_ARN = "arn:aws:sqs:us-east-1:000000000000:dlq"
ONLY_RUNS = ({"dynamodb": {"Keys": {"SK": {"S": ["RUN"]}}}},)


class FakeStreams:
    """One shard; iterators are positions; ``on_read`` may append records between reads."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.on_read: Callable[[FakeStreams], None] | None = None

    def add(self, sk: str = "RUN", pk: str = "RUN#a", created: float | None = None) -> str:
        seq = f"{len(self.records) + 1:021d}"
        self.records.append(
            {
                "eventName": "MODIFY",
                "dynamodb": {
                    "Keys": {"PK": {"S": pk}, "SK": {"S": sk}},
                    "SequenceNumber": seq,
                    "ApproximateCreationDateTime": int(created or time.time()),
                },
            }
        )
        return seq

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-0"}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> Any:
        start = len(self.records) if ShardIteratorType == "LATEST" else 0
        return {"ShardIterator": str(start)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.on_read:
            self.on_read(self)
        start = int(ShardIterator)
        records = self.records[start : start + Limit]
        return {"Records": records, "NextShardIterator": str(start + len(records))}


class FakeFunction:
    """A stream handler that processes records in order; ``fail(seq, record_seqs)`` decides
    per attempt: None (ok), "item" (reported in batchItemFailures) or "crash" (function
    error)."""

    def __init__(self, fail: Callable[[str, list[str]], str | None] | None = None) -> None:
        self.fail = fail or (lambda seq, batch: None)
        self.processed: list[str] = []
        self.batches: list[list[str]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        records = json.loads(Payload)["Records"]
        assert all(r["eventSourceARN"] == ARN for r in records)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        self.batches.append(seqs)
        for index, seq in enumerate(seqs):
            outcome = self.fail(seq, seqs)
            if outcome == "crash":
                return {"Payload": io.BytesIO(b'{"errorMessage": "boom"}'), "FunctionError": "U"}
            if outcome == "item":
                failures = [{"itemIdentifier": s} for s in seqs[index:]]
                return {"Payload": io.BytesIO(json.dumps({"batchItemFailures": failures}).encode())}
            self.processed.append(seq)
        return {"Payload": io.BytesIO(b'{"batchItemFailures": []}')}


class FakeQueue:
    """The on-failure destination (SQS): keeps what was sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        assert QueueUrl == "https://sqs/dlq"
        self.messages.append(json.loads(MessageBody))


def poller(
    streams: FakeStreams, function: FakeFunction, dlq: FakeQueue | None = None, **mapping: Any
) -> tuple[StreamPoller, StreamMapping]:
    config = StreamMapping(function="projector", on_failure=DLQ_ARN, filter_patterns=ONLY_RUNS)
    config = replace(config, **mapping)
    result = StreamPoller(
        config, ARN, streams, function, sqs=dlq or FakeQueue(), interval_s=0.001, retry_backoff_s=0
    )
    result.open_shards("TRIM_HORIZON")
    return result, config


def drain(subject: StreamPoller, rounds: int = 20) -> None:
    for _ in range(rounds):
        if not subject.poll_once():
            return


def test_batches_are_at_most_batch_size_and_checkpointed() -> None:
    streams, function = FakeStreams(), FakeFunction()
    seqs = [streams.add() for _ in range(7)]
    subject, _ = poller(streams, function, batch_size=3)
    drain(subject)
    assert function.batches == [seqs[0:3], seqs[3:6], seqs[6:7]]
    assert function.processed == seqs
    assert subject.checkpoints == {"shard-0": seqs[-1]}
    assert subject.delivered == 7 and subject.skipped == []


def test_filter_criteria_drop_other_items_but_checkpoint_past_them() -> None:
    streams, function = FakeStreams(), FakeFunction()
    run_seqs = []
    for i in range(6):
        run_seqs.append(streams.add())
        streams.add(sk=f"EVT#{i:010d}")
    last = streams.add(sk="LATEST", pk="DATASET#prices")
    subject, _ = poller(streams, function)
    drain(subject)
    assert function.processed == run_seqs
    assert subject.dropped_by_filter == 7
    assert subject.checkpoints["shard-0"] == last


def test_nothing_is_invoked_for_a_fully_filtered_batch() -> None:
    streams, function = FakeStreams(), FakeFunction()
    streams.add(sk="EVT#0000000001")
    subject, _ = poller(streams, function)
    drain(subject)
    assert function.batches == [] and subject.dropped_by_filter == 1


def test_batch_item_failures_resume_at_the_first_failed_record() -> None:
    streams = FakeStreams()
    seqs = [streams.add() for _ in range(5)]
    attempts: dict[str, int] = {}

    def fail_third_once(seq: str, batch: list[str]) -> str | None:
        attempts[seq] = attempts.get(seq, 0) + 1
        return "item" if seq == seqs[2] and attempts[seq] == 1 else None

    function = FakeFunction(fail_third_once)
    subject, _ = poller(streams, function)
    drain(subject)
    assert function.batches == [seqs, seqs[2:]]
    assert function.processed == seqs  # each once, in order
    assert [i.failed_at for i in subject.invocations] == [2, None]
    assert subject.checkpoints["shard-0"] == seqs[-1]


def test_a_function_error_is_bisected_down_to_the_poison_record_then_discarded() -> None:
    streams = FakeStreams()
    seqs = [streams.add() for _ in range(8)]
    poison = seqs[4]
    function = FakeFunction(lambda seq, batch: "crash" if poison in batch else None)
    subject, _ = poller(streams, function, maximum_retry_attempts=2)
    drain(subject)
    sizes = [len(b) for b in function.batches]
    assert sizes == [8, 4, 4, 2, 1, 1, 1, 3]
    assert function.processed == [s for s in seqs if s != poison]
    assert subject.skipped == [poison]
    assert subject.checkpoints["shard-0"] == seqs[-1]


def test_without_bisect_a_failing_batch_is_retried_then_discarded_whole() -> None:
    streams = FakeStreams()
    seqs = [streams.add() for _ in range(4)]
    function = FakeFunction(lambda seq, batch: "crash" if seqs[1] in batch else None)
    subject, _ = poller(streams, function, bisect_on_error=False, maximum_retry_attempts=1)
    drain(subject)
    assert function.batches == [seqs, seqs]
    assert subject.skipped == seqs
    assert subject.checkpoints["shard-0"] == seqs[-1]


def test_a_record_that_keeps_failing_goes_to_the_destination_and_the_rest_carry_on() -> None:
    streams, dlq = FakeStreams(), FakeQueue()
    seqs = [streams.add() for _ in range(4)]
    function = FakeFunction(lambda seq, batch: "item" if seq == seqs[1] else None)
    subject, _ = poller(streams, function, dlq, maximum_retry_attempts=3)
    drain(subject)
    assert function.batches[0] == seqs
    assert function.batches[1:] == [seqs[1:]] * 3 + [seqs[2:]]  # 3 retries, then skipped
    assert function.processed == [seqs[0], seqs[2], seqs[3]]
    assert subject.skipped == [seqs[1]]
    # the destination gets Lambda's description of the skipped record, enough to redrive it
    (message,) = dlq.messages
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (seqs[1], seqs[1])
    assert (info["shardId"], info["streamArn"], info["batchSize"]) == ("shard-0", ARN, 1)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 4


def test_records_older_than_the_maximum_age_are_skipped_without_an_invocation() -> None:
    streams, dlq = FakeStreams(), FakeQueue()
    stale = [streams.add(created=time.time() - 120) for _ in range(2)]
    fresh = streams.add()
    function = FakeFunction()
    subject, _ = poller(streams, function, dlq, maximum_record_age_s=60)
    drain(subject)
    assert function.processed == [fresh]
    assert subject.skipped == stale
    (message,) = dlq.messages
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2


def test_the_batching_window_gathers_records_that_arrive_within_it() -> None:
    streams, function = FakeStreams(), FakeFunction()
    streams.add()

    def trickle(s: FakeStreams) -> None:
        if len(s.records) < 4:
            s.add()

    streams.on_read = trickle
    subject, _ = poller(streams, function, batch_size=10, max_batching_window_s=0.2)
    subject.poll_once()
    assert [len(b) for b in function.batches] == [4]


def test_stop_is_prompt_even_while_a_batch_keeps_failing() -> None:
    streams = FakeStreams()
    function = FakeFunction(lambda seq, batch: "item")
    config = StreamMapping(function="projector", on_failure=DLQ_ARN, maximum_retry_attempts=10**6)
    subject = StreamPoller(
        config, ARN, streams, function, sqs=FakeQueue(), interval_s=0.005, retry_backoff_s=0.5
    )
    subject.start()  # LATEST: only new records
    streams.add()
    deadline = time.monotonic() + 5
    while not function.batches and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    subject.stop()
    assert time.monotonic() - started < 1.5
    assert not any(t.name == "stream-poller" and t.is_alive() for t in threading.enumerate())
    assert "shard-0" not in subject.checkpoints  # nothing was processed


def test_an_idle_stream_is_read_less_and_less_often() -> None:
    streams, reads = FakeStreams(), 0

    def count(_: FakeStreams) -> None:
        nonlocal reads
        reads += 1

    streams.on_read = count
    config = StreamMapping(function="projector", on_failure=DLQ_ARN)
    poller = StreamPoller(
        config, ARN, streams, FakeFunction(), sqs=FakeQueue(), interval_s=0.01, idle_interval_s=0.1
    )
    poller.start()
    time.sleep(0.6)
    poller.stop()
    # every 10 ms would be ~60 reads; backing off to 100 ms leaves about a dozen
    assert reads <= 15
    streams.add()
    poller = StreamPoller(
        config, ARN, streams, FakeFunction(), sqs=FakeQueue(), interval_s=0.01, idle_interval_s=0.1
    )
    poller.start("TRIM_HORIZON")
    time.sleep(0.3)
    poller.stop()
    assert poller.delivered == 1
