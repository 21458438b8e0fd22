"""The local cloud's admission of executions: recorded at once, begun in start order while no
start is in flight, at most ``slots`` evaluating at once; a stop ends a waiting one at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infrastructure.local import execution_admission, foreground
from quantdesk import aws

WAIT_1S = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}


@pytest.fixture
def one_slot(moto_aws: None) -> Iterator[None]:
    execution_admission.install(1)
    yield
    execution_admission.install(1000)  # later tests run unlimited, as moto does


def state_machine(sfn: Any, definition: dict[str, Any]) -> str:
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    arn: str = sfn.create_state_machine(
        name="wait", definition=json.dumps(definition), roleArn=role["Arn"]
    )["stateMachineArn"]
    return arn


def wait_while_running(sfn: Any, execution: str, started: float) -> float:
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() - started < 10
        time.sleep(0.02)
    return time.monotonic() - started


def history(sfn: Any, execution: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=execution)["events"]
    return [event["type"] for event in events]


def test_executions_beyond_the_slots_wait_their_turn(one_slot: None) -> None:
    sfn = aws.client("stepfunctions")
    arn = state_machine(sfn, WAIT_1S)
    started = time.monotonic()
    executions = [
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(2)
    ]
    # both are started (RUNNING) at once; the second only evaluates once the first is done
    assert [sfn.describe_execution(executionArn=e)["status"] for e in executions] == [
        "RUNNING",
        "RUNNING",
    ]
    ended = [wait_while_running(sfn, execution, started) for execution in executions]
    assert ended[0] >= 1 and ended[1] >= 2


def test_an_execution_begins_only_once_the_starts_in_flight_are_answered(
    one_slot: None,
) -> None:
    sfn = aws.client("stepfunctions")
    arn = state_machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    release = threading.Event()

    def a_start_in_flight() -> None:
        with foreground.serving():
            release.wait(5)

    holder = threading.Thread(target=a_start_in_flight)
    holder.start()
    try:
        execution = sfn.start_execution(stateMachineArn=arn, name="e")["executionArn"]
        time.sleep(0.3)
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        assert history(sfn, execution) == []  # recorded, not begun
    finally:
        release.set()
        holder.join()
    wait_while_running(sfn, execution, time.monotonic())
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"


def test_a_stop_ends_an_execution_still_waiting_for_a_slot(one_slot: None) -> None:
    sfn = aws.client("stepfunctions")
    arn = state_machine(sfn, WAIT_1S)
    started = time.monotonic()
    first, waiting = (
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(2)
    )
    sfn.stop_execution(executionArn=waiting, error="Cancelled", cause="by the test")
    assert wait_while_running(sfn, waiting, started) < 0.9  # not after the first's second
    assert sfn.describe_execution(executionArn=waiting)["status"] == "ABORTED"
    assert "WaitStateEntered" not in history(sfn, waiting)
    wait_while_running(sfn, first, started)
    assert sfn.describe_execution(executionArn=first)["status"] == "SUCCEEDED"


def test_an_execution_that_cannot_begin_ends_and_the_next_begins(
    one_slot: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.stepfunctions.parser.backend import execution_worker  # noqa: PLC0415

    threads = iter([RuntimeError("can't start new thread")])

    def thread_or_failure(*args: Any, **kwargs: Any) -> threading.Thread:
        failure = next(threads, None)
        if failure is not None:
            raise failure
        return threading.Thread(*args, **kwargs)

    monkeypatch.setattr(execution_worker, "Thread", thread_or_failure)
    sfn = aws.client("stepfunctions")
    arn = state_machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    failed, next_one = (
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(2)
    )
    started = time.monotonic()
    wait_while_running(sfn, failed, started)
    wait_while_running(sfn, next_one, started)
    assert sfn.describe_execution(executionArn=failed)["status"] == "ABORTED"
    events = sfn.get_execution_history(executionArn=failed)["events"]
    assert [event["type"] for event in events] == ["ExecutionStarted", "ExecutionAborted"]
    aborted = events[-1]["executionAbortedEventDetails"]
    assert aborted["error"] == "States.Runtime"
    assert "can't start new thread" in aborted["cause"]
    assert sfn.describe_execution(executionArn=next_one)["status"] == "SUCCEEDED"
