"""The reconciler and sweeper Lambdas against moto: runs whose workflow ended (or never
started) without ending them are ended in the matching state; terminal states stay final."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.event_rules import DETAIL_TYPE
from infrastructure.local.lambda_runtime import LambdaContext, load_handler
from quantdesk import aws
from quantdesk.clock import iso, now_iso
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.unit.stream.run_writer import mark_running, queued_run


def context(function: resources.Function) -> LambdaContext:
    arn = resources.function_arn(function.name, REGION, ACCOUNT)
    return LambdaContext(function.name, function.memory_mb, function.timeout_s, arn)


@pytest.fixture
def repo(moto_aws: None) -> RunRepository:
    return RunRepository(get_settings().table_name)


def stored_run(repo: RunRepository, status: str = "queued", age_s: float = 0) -> str:
    """A run stored ``age_s`` ago (and marked running when asked), as the API and the state
    machine write it."""
    run_id = new_run_id()
    repo.create(queued_run(run_id, now=iso(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s))))
    if status == "running":
        mark_running(repo, run_id)
    return run_id


def status_change(run_id: str, status: str, **detail: Any) -> dict[str, Any]:
    """The EventBridge event Step Functions sends (as the local cloud builds it)."""
    machine = resources.state_machine_arn(resources.SCENARIO_RUN.name, REGION, ACCOUNT)
    return {
        "version": "0",
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "detail": {
            "executionArn": machine.replace(":stateMachine:", ":execution:") + f":{run_id}",
            "stateMachineArn": machine,
            "name": run_id,
            "status": status,
            **detail,
        },
    }


def ended(event: dict[str, Any]) -> Any:
    return load_handler(resources.RECONCILER)(event, context(resources.RECONCILER))


def test_a_failed_execution_fails_its_running_run_with_the_executions_error(
    repo: RunRepository,
) -> None:
    run_id = stored_run(repo, "running")
    event = status_change(
        run_id,
        "FAILED",
        error="DynamoDB.ProvisionedThroughputExceededException",
        cause="throughput exceeded",
    )
    assert ended(event) == {"run_id": run_id, "ended": "failed"}
    run = repo.get(run_id)
    assert run is not None and run.status == "failed" and run.finished_at
    assert run.error == RunError(
        type="DynamoDB.ProvisionedThroughputExceededException", message="throughput exceeded"
    )
    assert run.event_seq == 3  # the end is an event viewers receive
    # a repeated delivery (EventBridge is at-least-once) changes nothing
    assert ended(event) == {"run_id": run_id, "ended": None}
    assert repo.get(run_id) == run


@pytest.mark.parametrize(
    ("execution", "run_status"), [("TIMED_OUT", "timed_out"), ("ABORTED", "cancelled")]
)
def test_each_execution_end_maps_to_its_run_state(
    repo: RunRepository, execution: str, run_status: str
) -> None:
    run_id = stored_run(repo, "queued")
    assert ended(status_change(run_id, execution))["ended"] == run_status
    run = repo.get(run_id)
    assert run is not None and run.status == run_status and run.error is not None


def test_a_terminal_run_is_never_changed(repo: RunRepository) -> None:
    run_id = stored_run(repo, "running")
    repo.finish(run_id, "cancelled", now_iso(), RunError(type="Cancelled", message="by user"))
    before = repo.get(run_id)
    assert ended(status_change(run_id, "FAILED", error="X", cause="y"))["ended"] is None
    assert repo.get(run_id) == before


def test_an_event_that_is_not_a_run_execution_is_refused(repo: RunRepository) -> None:
    event = status_change("not a run id", "FAILED")
    with pytest.raises(ValueError, match="name"):
        ended(event)


@pytest.fixture
def machine(repo: RunRepository) -> str:
    """A scenario-run machine that waits, so a started execution stays RUNNING."""
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    return str(
        aws.client("stepfunctions").create_state_machine(
            name=resources.SCENARIO_RUN.name,
            definition=json.dumps(
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
            ),
            roleArn=role["Arn"],
        )["stateMachineArn"]
    )


def sweep() -> Any:
    event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    return load_handler(resources.SWEEPER)(event, context(resources.SWEEPER))


def test_the_sweeper_fails_runs_queued_past_the_bound_without_an_execution(
    repo: RunRepository, machine: str
) -> None:
    # Given a run the API stored but never started, one stored a moment ago, and an old queued
    # run whose execution is running (its first write is still being retried)
    never_started = stored_run(repo, "queued", age_s=3600)
    fresh = stored_run(repo, "queued", age_s=1)
    retrying = stored_run(repo, "queued", age_s=3600)
    aws.client("stepfunctions").start_execution(stateMachineArn=machine, name=retrying)
    # When the sweeper runs
    report = sweep()
    # Then only the run that can never start is ended, and says why
    assert report["ended"] == {never_started: "failed"}
    run = repo.get(never_started)
    assert run is not None and run.error is not None and run.error.type == "StartFailed"
    assert [repo.get(r).status for r in (fresh, retrying)] == ["queued", "queued"]  # type: ignore[union-attr]


def test_the_sweeper_ends_a_running_run_whose_execution_already_ended(
    repo: RunRepository, machine: str
) -> None:
    run_id = stored_run(repo, "running", age_s=7200)
    sfn = aws.client("stepfunctions")
    sfn.start_execution(stateMachineArn=machine, name=run_id)
    arn = machine.replace(":stateMachine:", ":execution:") + f":{run_id}"
    sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped from the console")
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert sweep()["ended"] == {run_id: "cancelled"}
    run = repo.get(run_id)
    # (moto keeps no error for a stopped execution; AWS's event carries the stop's own)
    assert run is not None and run.error is not None
    assert run.error.type in {"Operator", "ExecutionAborted"}
