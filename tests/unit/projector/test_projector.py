"""The projector behind the local stream poller, over moto's table stream: run writes become
ordered event items exactly once, also when a record fails mid-batch and the batch is
redelivered."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from infrastructure.local.stream_poller import StreamPoller
from quantdesk import aws, cli, keys, stack_outputs
from quantdesk.errors import ServiceUnavailable
from quantdesk.runs import dead_letters
from quantdesk.runs.cache import ResultCache
from quantdesk.runs.dead_letters import DeadLetters, lambda_record
from quantdesk.runs.limits import Limits, RunLimits
from quantdesk.runs.models import Progress, RunError, RunEvent
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.slots import ended_run
from quantdesk.settings import get_settings
from tests.unit.lambda_zip import placeholder_zip
from tests.unit.stream.run_writer import OWNER, mark_running, queued_run

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
    # the template's mapping, its on-failure destination the unit tests' fixed queue
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resources.PROJECTOR_DLQ}"
    mapping = replace(resources.STREAM_MAPPINGS[0], on_failure=dlq)
    aws.client("sqs").create_queue(QueueName=resources.PROJECTOR_DLQ)
    poller = StreamPoller(
        mapping, stream_arn, streams_client(), function, sqs=aws.client("sqs"), retry_backoff_s=0
    )
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
        lambda_record(r, poller.stream_arn)
        for r in records
        if r["dynamodb"]["Keys"]["SK"]["S"] == "RUN"
    ]


def test_an_unprojectable_record_goes_to_the_dlq_and_a_redrive_projects_it(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    poller, _, repo = pipeline
    original = RunRepository.put_event
    broken = {"on": True}

    def put_event(self: RunRepository, event: RunEvent) -> bool:
        if broken["on"] and (event.run_id, event.seq) == (RUN_A, 3):
            raise ConnectionError("the events partition is unavailable")
        return original(self, event)

    monkeypatch.setattr(RunRepository, "put_event", put_event)
    # Given run A's terminal write cannot be projected, and run B runs alongside
    start_run(repo, RUN_A)
    start_run(repo, RUN_B)
    repo.finish(RUN_A, "cancelled", NOW)
    progress(repo, RUN_B, 50)
    # When the poller has retried it the mapping's bounded number of times
    drain(poller)
    # Then it was set aside on the on-failure destination and run B's events all passed
    assert [e.seq for e in stored(repo, RUN_A)] == [1, 2]
    assert [e.seq for e in stored(repo, RUN_B)] == [1, 2, 3]
    assert len(poller.skipped) == 1
    settings = get_settings()
    letters = DeadLetters(settings.projector_dlq, settings.projector_function)
    (letter,) = letters.pending()
    assert letter.condition == "RetryAttemptsExhausted"
    assert letter.attempts == resources.STREAM_MAPPINGS[0].maximum_retry_attempts + 1
    # and the researcher's CLI lists it (leaving it queued)
    _stack_outputs_name_the_unit_tests_queue(monkeypatch)
    assert cli.main(["dlq", "list", "--aws"]) == 0
    listed = capsys.readouterr().out
    assert f"{letter.message_id}  RetryAttemptsExhausted after 3 attempt(s)" in listed
    assert "1 dead letter(s) in quantdesk-projector-dlq" in listed

    # When the cause is fixed and the dead letter redriven through the projector
    broken["on"] = False
    _projector_behind_the_invoke_api(monkeypatch)
    assert cli.main(["dlq", "redrive", "--aws"]) == 0
    # Then the terminal event is stored once and the queue is empty
    assert "1 redriven, 0 still failing" in capsys.readouterr().out
    events = stored(repo, RUN_A)
    assert [(e.seq, e.status) for e in events] == [(1, "queued"), (2, "running"), (3, "cancelled")]
    assert letters.pending() == []


def test_a_redrive_that_fails_again_keeps_the_dead_letter(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    poller, _, repo = pipeline

    def put_event(self: RunRepository, event: RunEvent) -> bool:
        raise ConnectionError("still down")

    monkeypatch.setattr(RunRepository, "put_event", put_event)
    start_run(repo, RUN_A)
    drain(poller)
    _projector_behind_the_invoke_api(monkeypatch)
    settings = get_settings()
    letters = DeadLetters(settings.projector_dlq, settings.projector_function)
    assert len(letters.pending()) == 2  # queued and running: each record set aside
    outcomes = letters.redrive()
    assert [o.ok for o in outcomes] == [False, False]
    assert len(letters.pending()) == 2


def _stack_outputs_name_the_unit_tests_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI names the queue and the projector from the stack's outputs: here, the names the
    in-process AWS uses."""
    outputs = {
        "ProjectorFunctionName": resources.PROJECTOR.name,
        "ProjectorDlqName": resources.PROJECTOR_DLQ,
    }
    monkeypatch.setattr(stack_outputs, "outputs", lambda stack: outputs)


def _projector_behind_the_invoke_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """The projector registered in moto's Lambda API, its invocations run by our runtime."""
    role = aws.client("iam").create_role(RoleName="projector", AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName=resources.PROJECTOR.name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler=resources.PROJECTOR.handler,
        Code={"ZipFile": placeholder_zip(resources.PROJECTOR.handler)},
    )
    install(LambdaRuntime((resources.PROJECTOR,), REGION, ACCOUNT))
    clients = SimpleNamespace(
        client=lambda s: streams_client() if s == "dynamodbstreams" else aws.client(s)
    )
    monkeypatch.setattr(dead_letters, "aws", clients)


def test_a_succeeded_run_becomes_the_cache_entry_a_cancelled_one_does_not(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
) -> None:
    poller, _, repo = pipeline
    snapshots = {"prices": "p-1", "universe": "u-1"}
    for dataset, snapshot_id in snapshots.items():
        aws.client("dynamodb").put_item(
            TableName=repo.table,
            Item={
                **{k: {"S": v} for k, v in keys.latest_snapshot_key(dataset).items()},
                "snapshot_id": {"S": snapshot_id},
            },
        )
    cache = ResultCache(repo.table)
    for run_id, ending in ((RUN_A, "cancelled"), (RUN_B, "succeeded")):
        start_run(repo, run_id)
        repo.record_result(
            run_id, result_key=f"{run_id}/r", summary={}, snapshots=snapshots, timings={}, now=NOW
        )
        if ending == "cancelled":
            repo.finish(run_id, "cancelled", NOW)
        else:
            mark_succeeded(repo, run_id)
        drain(poller)
        # the next identical request (both runs are the same request) finds the entry or not
        probe = queued_run("c" * 26, now=NOW)
        hit = cache.lookup(probe, ("prices", "universe"))
        assert (hit.run_id if hit else None) == (RUN_B if ending == "succeeded" else None)


# -- a run that ends gives its in-flight slot back ----------------------------------------------
def in_flight(repo: RunRepository, owner: str = OWNER) -> set[str]:
    """The run ids in the owner's in-flight set."""
    key = {k: {"S": v} for k, v in keys.inflight_key(owner).items()}
    item = aws.client("dynamodb").get_item(TableName=repo.table, Key=key, ConsistentRead=True)
    return set(item.get("Item", {}).get("runs", {}).get("SS", []))


def start_with_slot(repo: RunRepository, limits: RunLimits, run_id: str) -> None:
    """A run stored with its slot taken (as the API's start does), then running."""
    limits.acquire(OWNER, run_id, put=repo.put_new(queued_run(run_id, now=NOW)))
    mark_running(repo, run_id)


def mark_succeeded(repo: RunRepository, run_id: str) -> None:
    """What the state machine's MarkSucceeded writes."""
    aws.client("dynamodb").update_item(
        TableName=repo.table,
        Key={k: {"S": v} for k, v in keys.run_key(run_id).items()},
        UpdateExpression="SET #s = :s, finished_at = :now, last_event = :e ADD event_seq :one",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":s": {"S": "succeeded"},
            ":now": {"S": NOW},
            ":e": {"S": "status"},
            ":one": {"N": "1"},
        },
    )


def end(repo: RunRepository, run_id: str, status: str) -> None:
    if status == "succeeded":
        mark_succeeded(repo, run_id)
    else:
        repo.finish(run_id, status, NOW, RunError(type="Boom", message="m"))


def no_reconcile(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: RunLimits, owner: str) -> bool:
        raise AssertionError("the slot should have been released without a reconcile")

    monkeypatch.setattr(RunLimits, "_reconcile", refuse)


@pytest.mark.parametrize("ending", ["succeeded", "failed", "cancelled", "timed_out"])
def test_a_run_that_ends_frees_its_slot_without_a_reconcile(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
    monkeypatch: pytest.MonkeyPatch,
    ending: str,
) -> None:
    poller, _, repo = pipeline
    no_reconcile(monkeypatch)
    limits = RunLimits(repo.table, Limits(max_in_flight=2, max_per_minute=100))
    start_with_slot(repo, limits, RUN_A)
    start_with_slot(repo, limits, RUN_B)
    progress(repo, RUN_A, 50)
    drain(poller)
    # non-terminal writes (queued -> running, progress) release nothing
    assert in_flight(repo) == {RUN_A, RUN_B}
    end(repo, RUN_A, ending)
    drain(poller)
    assert in_flight(repo) == {RUN_B}
    assert stored(repo, RUN_A)[-1].status == ending
    # the freed slot is taken by the next start at the cap, with no reconcile
    limits.acquire(OWNER, "c" * 26)
    assert in_flight(repo) == {RUN_B, "c" * 26}


def test_replaying_an_ending_record_releases_nothing_more(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
) -> None:
    poller, function, repo = pipeline
    limits = RunLimits(repo.table, Limits(max_in_flight=5, max_per_minute=100))
    start_with_slot(repo, limits, RUN_A)
    end(repo, RUN_A, "cancelled")
    drain(poller)
    events = stored(repo, RUN_A)
    start_with_slot(repo, limits, RUN_B)
    # When Lambda delivers run A's records (its ending among them) twice more
    batch = json.dumps({"Records": _replay(poller)}, default=str).encode()
    for _ in range(2):
        response = function.invoke(resources.PROJECTOR.name, batch)
        assert json.loads(response["Payload"].getvalue()) == {"batchItemFailures": []}
    # Then the other run keeps its slot, and run A's events are unchanged
    assert in_flight(repo) == {RUN_B}
    assert stored(repo, RUN_A) == events


def test_a_failed_release_neither_fails_nor_delays_the_events_and_a_full_start_reconciles(
    pipeline: tuple[StreamPoller, RuntimeLambda, RunRepository],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    poller, function, repo = pipeline
    limits = RunLimits(repo.table, Limits(max_in_flight=1, max_per_minute=100))
    release = RunLimits.release

    def unavailable(self: RunLimits, owner: str, run_id: str) -> None:
        raise ServiceUnavailable("could not release the run's slot")

    monkeypatch.setattr(RunLimits, "release", unavailable)
    start_with_slot(repo, limits, RUN_A)
    end(repo, RUN_A, "failed")
    drain(poller)
    # the run's events are all stored, first time, and nothing was reported or set aside
    assert [e.status for e in stored(repo, RUN_A)] == ["queued", "running", "failed"]
    assert all(not r or not r.get("batchItemFailures") for r in function.responses)
    assert poller.skipped == []
    assert in_flight(repo) == {RUN_A}
    # the lost release is recovered by the next start that finds the set full
    monkeypatch.setattr(RunLimits, "release", release)
    limits.acquire(OWNER, RUN_B)
    assert in_flight(repo) == {RUN_B}


def test_only_a_run_item_moving_to_a_terminal_status_ends_a_run() -> None:
    def image(status: str, sk: str = keys.RUN_SK) -> dict[str, Any]:
        return {
            keys.PK: {"S": f"RUN#{RUN_A}"},
            keys.SK: {"S": sk},
            "run_id": {"S": RUN_A},
            "owner": {"S": OWNER},
            "status": {"S": status},
        }

    assert ended_run({"OldImage": image("running"), "NewImage": image("succeeded")}) == (
        OWNER,
        RUN_A,
    )
    assert ended_run({"OldImage": image("queued"), "NewImage": image("cancelled")}) == (
        OWNER,
        RUN_A,
    )
    # a write within the same phase, or after the end
    assert ended_run({"OldImage": image("queued"), "NewImage": image("running")}) is None
    assert ended_run({"OldImage": image("failed"), "NewImage": image("failed")}) is None
    # a run stored already terminal (a result-cache answer) never held a slot
    assert ended_run({"NewImage": image("succeeded")}) is None
    # not a run item
    event_item = {"OldImage": image("running", "EVT#1"), "NewImage": image("failed", "EVT#1")}
    assert ended_run(event_item) is None
    assert ended_run({"OldImage": image("running")}) is None
