"""The scenario-run state machine, executed by moto with our Lambda dispatch, branch by branch."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from quantdesk import aws
from quantdesk.clock import now_iso
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import Run, RunError, RunManifest
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.unit.lambda_zip import placeholder_zip


@pytest.fixture
def machine(moto_aws: None) -> Any:
    iam = aws.client("iam")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    aws.client("lambda").create_function(
        FunctionName=resources.WORKER.name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": placeholder_zip("handler.handler")},
    )
    arn = aws.client("stepfunctions").create_state_machine(
        name=resources.SCENARIO_RUN.name,
        definition=resources.render_definition(resources.SCENARIO_RUN, REGION, ACCOUNT),
        roleArn=role,
    )["stateMachineArn"]

    def run_with(worker: str, *, before: str | None = None) -> tuple[Run, str]:
        install(
            LambdaRuntime(
                (
                    resources.Function(
                        name=resources.WORKER.name,
                        code_dir="tests/unit/local",
                        handler=f"fake_workers.{worker}",
                    ),
                ),
                REGION,
                ACCOUNT,
            )
        )
        repo = RunRepository(get_settings().table_name)
        run_id, now = new_run_id(), now_iso()
        repo.create(
            Run(
                run_id=run_id,
                owner="alice",
                scenario_id="trend_strength",
                status="queued",
                created_at=now,
                updated_at=now,
                event_seq=1,
                manifest=RunManifest(
                    scenario_id="trend_strength",
                    scenario_version="1",
                    params={},
                    code_version="test",
                ),
            )
        )
        if before == "cancel":
            repo.finish(run_id, "cancelled", now_iso(), RunError(type="Cancelled", message="x"))
        sfn = aws.client("stepfunctions")
        execution = sfn.start_execution(
            stateMachineArn=arn,
            name=run_id,
            input=json.dumps({"run_id": run_id, "scenario_id": "trend_strength", "params": {}}),
        )["executionArn"]
        deadline = time.monotonic() + 20
        while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
            assert time.monotonic() < deadline, "execution did not finish"
            time.sleep(0.05)
        final = repo.get(run_id)
        assert final is not None
        return final, status

    return run_with


def test_happy_path_marks_running_then_succeeded(machine: Any) -> None:
    run, execution = machine("succeed")
    assert (run.status, execution) == ("succeeded", "SUCCEEDED")
    assert run.event_seq == 3  # queued, running, succeeded
    assert run.started_at and run.finished_at and run.error is None


def test_worker_error_is_caught_and_recorded_readably(machine: Any) -> None:
    run, execution = machine("fail")
    assert (run.status, execution) == ("failed", "FAILED")
    assert run.error is not None
    assert run.error.type == "LookbackTooLong"
    assert run.error.message == "lookback_days 900 is longer than the 250 days of history"
    assert run.event_seq == 3


def test_a_run_cancelled_before_start_is_never_revived(machine: Any) -> None:
    run, execution = machine("succeed", before="cancel")
    assert (run.status, execution) == ("cancelled", "SUCCEEDED")
    assert run.event_seq == 2


def test_terminal_state_is_not_overwritten_when_cancelled_mid_run(machine: Any) -> None:
    run, _ = machine("cancel_then_succeed")
    assert run.status == "cancelled"
    assert run.event_seq == 3  # queued, running, cancelled: no succeeded after it
