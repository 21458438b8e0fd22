"""The projector behind the local stream poller, over moto's table stream: run writes become
ordered event items exactly once, also when a record fails mid-batch and the batch is
redelivered."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime
from infrastructure.local.stream_poller import StreamPoller
from quantdesk import aws
from quantdesk.runs.models import Progress, RunEvent
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.unit.stream.run_writer import mark_running, queued_run

NOW = "2026-11-27T12:00:00.000Z"


class RuntimeLambda:
    """The Lambda Invoke API in front of our real handler (as moto + lambda_runtime do)."""

    def __init__(self) -> None:
        self.runtime = LambdaRuntime((resources.PROJECTOR,), REGION, ACCOUNT)
        self.responses: list[Any] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        payload, errored = self.runtime.invoke(FunctionName, Payload)
        self.responses.append(json.loads(payload))
        response: dict[str, Any] = {"Payload": io.BytesIO(payload.encode())}
        if errored:
            response["FunctionError"] = "Unhandled"
        return response


@pytest.fixture
def pipeline(moto_aws: None) -> Iterator[tuple[StreamPoller, RuntimeLambda, RunRepository]]:
    table = resources.TABLE.name
    stream_arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    function = RuntimeLambda()
    mapping = resources.STREAM_MAPPINGS[0]
    poller = StreamPoller(mapping, stream_arn, streams_client(), function, retry_backoff_s=0)
    poller.open_shards("LATEST")
    yield poller, function, RunRepository(get_settings().table_name)


def streams_client() -> Any:
    """botocore routes calls with a ``StreamArn`` to an account-based endpoint that moto's
    in-process mock does not match; the regional endpoint works (the local cloud's server mode
    sets an endpoint explicitly anyway)."""

    return boto3.client(
        "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com"
    )


def drain(poller: StreamPoller) -> None:
    for _ in range(50):
        if not poller.poll_once():
            return


def start_run(repo: RunRepository, run_id: str) -> None:
    repo.create(queued_run(run_id, now=NOW))
    mark_running(repo, run_id)


def progress(repo: RunRepository, run_id: str, percent: float) -> None:
    repo.record_progress(run_id, Progress(step="computing", percent=percent, message="m"), NOW)


def stored(repo: RunRepository, run_id: str) -> list[RunEvent]:
    return repo.events_after(run_id, 0, 1000)


RUN_A, RUN_B = "a" * 26, "b" * 26


def test_run_writes_become_ordered_events_and_other_items_are_filtered(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
) -> None:
    poller, _, repo = pipeline
    start_run(repo, RUN_A)
    for percent in (10, 50, 90):
        progress(repo, RUN_A, percent)
    repo.record_result(
        RUN_A, result_key="k", summary={"rows": 3}, snapshots={}, timings={}, now=NOW
    )
    repo.finish(RUN_A, "cancelled", NOW)
    drain(poller)
    events = stored(repo, RUN_A)
    assert [e.seq for e in events] == list(range(1, 8))
    assert [e.event for e in events] == ["status", "status"] + ["progress"] * 3 + [
        "result",
        "status",
    ]
    assert [e.progress.percent for e in events if e.progress] == [10, 50, 90]
    assert events[-1].status == "cancelled"
    # the projector's own EVT# writes come back on the stream and are filtered out
    drain(poller)
    assert poller.dropped_by_filter >= 7
    assert stored(repo, RUN_A) == events


def test_a_failure_mid_batch_is_retried_without_loss_duplicates_or_reordering(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository], monkeypatch: pytest.MonkeyPatch
) -> None:
    poller, function, repo = pipeline
    original = RunRepository.put_event
    attempts: dict[tuple[str, int], int] = {}
    new_stores: list[tuple[str, int]] = []

    def flaky_put_event(self: RunRepository, event: RunEvent) -> bool:
        key = (event.run_id, event.seq)
        attempts[key] = attempts.get(key, 0) + 1
        if key == (RUN_A, 3) and attempts[key] <= 2:
            raise ConnectionError("DynamoDB throttled")
        new = original(self, event)
        if new:
            new_stores.append(key)
        return new

    monkeypatch.setattr(RunRepository, "put_event", flaky_put_event)
    # Given two runs whose writes interleave in one batch
    start_run(repo, RUN_A)
    start_run(repo, RUN_B)
    for percent in (10, 20, 30):
        progress(repo, RUN_A, percent)
        progress(repo, RUN_B, percent)

    # When the projector fails on run A's third event (twice) and the poller redelivers
    drain(poller)

    # Then each run's events are stored once, complete, and in sequence order
    for run_id in (RUN_A, RUN_B):
        assert [e.seq for e in stored(repo, run_id)] == [1, 2, 3, 4, 5]
        order = [seq for rid, seq in new_stores if rid == run_id]
        assert order == [1, 2, 3, 4, 5]
    assert len(new_stores) == 10
    # the failed record and run A's later records were reported, run B's were not held back
    failures = [r for r in function.responses if r and r.get("batchItemFailures")]
    assert len(failures) == 2
    first = poller.invocations[0]
    assert first.failed_at is not None
    owners = dict(_keys(poller, first.sequence_numbers))
    reported = {f["itemIdentifier"] for f in failures[0]["batchItemFailures"]}
    later_of_a = {
        seq for seq in first.sequence_numbers[first.failed_at :] if owners[seq] == f"RUN#{RUN_A}"
    }
    assert reported == later_of_a
    assert poller.skipped == []
    assert attempts[(RUN_A, 3)] == 3
    # run B was not held back by run A's failure
    assert (RUN_B, 5) in new_stores[: new_stores.index((RUN_A, 3))]


def _keys(poller: StreamPoller, seqs: tuple[str, ...]) -> list[tuple[str, str]]:
    """(sequence number, PK) of the records delivered with those sequence numbers."""
    records = streams_client()
    iterator = records.get_shard_iterator(
        StreamArn=poller.stream_arn,
        ShardId=next(iter(poller.checkpoints)),
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    found = records.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    wanted = set(seqs)
    return [
        (r["dynamodb"]["SequenceNumber"], r["dynamodb"]["Keys"]["PK"]["S"])
        for r in found
        if r["dynamodb"]["SequenceNumber"] in wanted
    ]


def test_a_redelivered_batch_is_a_no_op(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
) -> None:
    poller, function, repo = pipeline
    start_run(repo, RUN_A)
    progress(repo, RUN_A, 50)
    drain(poller)
    before = stored(repo, RUN_A)
    # When Lambda delivers the same records again (at-least-once)
    batch = json.loads(json.dumps({"Records": _replay(poller)}, default=str))
    response = function.invoke(resources.PROJECTOR.name, json.dumps(batch).encode())
    assert json.loads(response["Payload"].getvalue()) == {"batchItemFailures": []}
    assert stored(repo, RUN_A) == before


def _replay(poller: StreamPoller) -> list[dict[str, Any]]:
    streams = streams_client()
    iterator = streams.get_shard_iterator(
        StreamArn=poller.stream_arn,
        ShardId=next(iter(poller.checkpoints)),
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [
        poller._as_lambda_record(r) for r in records if r["dynamodb"]["Keys"]["SK"]["S"] == "RUN"
    ]
