"""The local cloud's limit on executions evaluated at once: the others wait, started, in turn."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from infrastructure.local import execution_slots
from quantdesk import aws


@pytest.fixture
def one_slot(moto_aws: None) -> Iterator[None]:
    execution_slots.install(1)
    yield
    execution_slots.install(1000)  # later tests run unlimited, as moto does


def test_executions_beyond_the_slots_wait_their_turn(one_slot: None) -> None:
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    sfn = aws.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="wait", definition=json.dumps(definition), roleArn=role["Arn"]
    )["stateMachineArn"]
    started = time.monotonic()
    executions = [
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(2)
    ]
    # both are started (RUNNING) at once; the second only evaluates once the first is done
    assert [sfn.describe_execution(executionArn=e)["status"] for e in executions] == [
        "RUNNING",
        "RUNNING",
    ]
    ended = []
    for execution in executions:
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            assert time.monotonic() - started < 10
            time.sleep(0.02)
        ended.append(time.monotonic() - started)
    assert ended[0] >= 1 and ended[1] >= 2
