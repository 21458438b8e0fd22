"""The scenario-run state machine, executed by moto with our Lambda dispatch, branch by branch."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local import event_rules, faults
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from quantdesk import aws
from quantdesk.clock import now_iso
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import Run, RunError, RunManifest
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.unit.lambda_zip import placeholder_zip
from tests.unit.local import fake_workers


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
            input=json.dumps(
                {
                    "run_id": run_id,
                    "scenario_id": "trend_strength",
                    "params": {},
                    # as the API says it: a universe that may exceed the sharding threshold
                    "may_shard": worker.startswith(("sharded", "planned")),
                }
            ),
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


def test_a_large_run_fans_out_over_its_shards_then_reduces(machine: Any) -> None:
    # When the plan shards the run
    run, execution = machine("sharded")
    # Then every shard ran once (a child execution each), the reduce after them, and the run
    # succeeded through the same terminal write as the single worker's
    assert (run.status, execution) == ("succeeded", "SUCCEEDED")
    done = fake_workers.markers(run.run_id)
    assert done == ["reduce", *[f"shard-{i}-0" for i in range(fake_workers.SHARDS)]]
    assert run.event_seq == 3  # queued, running, succeeded (the fakes report no progress)


def test_a_run_that_may_shard_but_is_small_runs_on_the_single_worker(machine: Any) -> None:
    run, execution = machine("planned_small")
    assert (run.status, execution) == ("succeeded", "SUCCEEDED")
    assert fake_workers.markers(run.run_id) == ["plan", "single"]


def test_a_failing_shard_is_retried_then_fails_the_run_naming_it(machine: Any) -> None:
    # When shard 1 fails on every attempt
    run, execution = machine("sharded_one_fails")
    # Then it was retried, no reduce ran (no partial result), and the run failed saying
    # which shard failed and why
    assert (run.status, execution) == ("failed", "FAILED")
    done = fake_workers.markers(run.run_id)
    assert "reduce" not in done
    assert [m for m in done if m.startswith("shard-1-")] == ["shard-1-0", "shard-1-1", "shard-1-2"]
    assert run.error is not None
    assert run.error.type == "ShardFailed"
    assert run.error.message == "shard 1 of 3 (1 assets) failed: ValueError: bad rows"


def test_cancel_mid_map_stops_the_shards_and_the_run_stays_cancelled(machine: Any) -> None:
    # When the user cancels while the shards compute
    run, execution = machine("sharded_cancelled")
    # Then the execution (and its map) stopped, nothing was reduced, the run is cancelled
    assert (run.status, execution) == ("cancelled", "ABORTED")
    assert "reduce" not in fake_workers.markers(run.run_id)
    assert run.error is not None and run.error.type == "Cancelled"


def test_a_throttled_run_write_is_retried_and_the_run_still_succeeds(machine: Any) -> None:
    # Given the table throttles the next two run writes (MarkRunning's first two attempts)
    faults.install()
    faults.arm("throttle_run_writes", 2)
    # When the run executes
    run, execution = machine("succeed")
    # Then the task's Retry absorbed the throttling: the run ended normally, once
    assert faults.armed()["throttle_run_writes"] == 0
    assert (run.status, execution) == ("succeeded", "SUCCEEDED")
    assert run.event_seq == 3


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for nested in (state.get("Iterator"), state.get("ItemProcessor")):
            if nested:
                yield from _tasks(nested["States"])


@pytest.mark.parametrize("machine_def", resources.STATE_MACHINES, ids=lambda m: m.name)
def test_every_aws_task_retries_transient_errors_with_capped_jittered_backoff(
    machine_def: resources.StateMachine,
) -> None:
    tasks = dict(_tasks(machine_def.definition()["States"]))
    assert tasks
    for name, task in tasks.items():
        retriers = task.get("Retry", [])
        assert retriers, f"{name} has no Retry"
        for retrier in retriers:
            assert retrier["JitterStrategy"] == "FULL", name
            assert 0 < retrier["MaxDelaySeconds"] <= 60, name
            assert retrier["BackoffRate"] > 1, name
            # a failed condition means another writer won: retrying it could never succeed
            assert "DynamoDB.ConditionalCheckFailedException" not in retrier["ErrorEquals"]
            assert "States.ALL" not in retrier["ErrorEquals"], name


def test_an_ended_execution_is_delivered_to_the_reconciler_rule_as_aws_sends_it(
    machine: Any,
) -> None:
    # Given the local cloud's EventBridge emulation of the one rule definition
    delivered: list[tuple[str, dict[str, Any]]] = []
    bus = event_rules.RuleBus(
        resources.RULES, REGION, ACCOUNT, lambda f, p: delivered.append((f, json.loads(p)))
    ).start()
    event_rules.install(bus)
    try:
        # When one execution succeeds and one fails
        machine("succeed")
        failed, _ = machine("fail")
        deadline = time.monotonic() + 5
        while len(delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        bus.stop()
    # Then only the failure reaches the reconciler, in the shape of a Step Functions event
    # (and only the success the watches' evaluator)
    ((_, event),) = [d for d in delivered if d[0] == resources.RECONCILER.name]
    ((_, succeeded),) = [d for d in delivered if d[0] == resources.WATCH_EVALUATE.name]
    assert succeeded["detail"]["status"] == "SUCCEEDED"
    assert (event["source"], event["detail-type"]) == (
        "aws.states",
        "Step Functions Execution Status Change",
    )
    detail = event["detail"]
    assert (detail["name"], detail["status"]) == (failed.run_id, "FAILED")
    assert detail["stateMachineArn"].endswith(f":stateMachine:{resources.SCENARIO_RUN.name}")
    assert detail["error"] == "ScenarioFailed"
    assert isinstance(detail["startDate"], int) and detail["stopDate"] >= detail["startDate"]
