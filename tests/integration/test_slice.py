"""The foundation slice against the real local stack: prompt -> run -> live stream -> result."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from infrastructure.local.cloud import EXECUTION_SLOTS_PER_WORKER
from quantdesk import keys
from tests.conftest import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(stack: Stack) -> Any:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


def stream_events(
    client: httpx.Client, url: str, **kwargs: Any
) -> list[tuple[str, str, dict[str, Any]]]:
    events = []
    with connect_sse(client, "GET", url, **kwargs) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            if sse.data:
                events.append((sse.id, sse.event, json.loads(sse.data)))
    return events


def test_prompt_to_streamed_result(client: httpx.Client) -> None:
    # Given a researcher's prompt
    cards = client.post("/analysis/suggest", json={"prompt": "stocks with strong uptrends"}).json()
    top = cards["suggestions"][0]
    assert top["scenario_id"] == "trend_strength"
    # When they run the top card
    response = client.post(
        "/analysis/run",
        json={"scenario_id": top["scenario_id"], "params": top["params"], "fresh": True},
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "queued"
    # Then the stream delivers queued -> running -> progress... -> result -> succeeded, in order
    events = stream_events(client, accepted["stream_url"])
    ids = [int(i) for i, _, _ in events]
    assert ids == list(range(1, len(ids) + 1))
    statuses = [(kind, data["status"]) for _, kind, data in events]
    assert statuses[0] == ("status", "queued")
    assert statuses[1] == ("status", "running")
    assert ("result", "running") in statuses
    assert statuses[-1] == ("status", "succeeded")
    assert any(kind == "progress" for kind, _ in statuses)
    result_event = next(data for _, kind, data in events if kind == "result")
    assert result_event["result_summary"]["row_count"] > 0
    # And polling shows the same run, with the full result and the manifest
    run = client.get(accepted["status_url"]).json()
    assert run["status"] == "succeeded"
    assert [e["seq"] for e in run["timeline"]] == ids
    result = run["result"]
    assert result["rows"] and {"symbol", "adx", "momentum_12_1"} <= set(result["rows"][0])
    assert len(result["rows"]) == result_event["result_summary"]["row_count"]
    manifest = run["manifest"]
    assert manifest["scenario_id"] == "trend_strength"
    assert "prices" in manifest["data_snapshots"]
    assert manifest["params"]["universe"] == "us_large_cap"
    # And a late subscriber resuming mid-way gets exactly the rest
    rest = stream_events(client, accepted["stream_url"], headers={"Last-Event-ID": "2"})
    assert [int(i) for i, _, _ in rest] == ids[2:]
    history = [r["run_id"] for r in client.get("/analysis/runs").json()["runs"]]
    assert accepted["run_id"] in history


def test_the_stack_is_the_deployed_template_and_the_run_used_its_names(
    client: httpx.Client, stack: Stack
) -> None:
    # Given the stack `make up` deployed into the endpoint through its CloudFormation API
    assert stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    resources = stack.client("cloudformation").list_stack_resources(StackName=stack.name)
    types = {r["ResourceType"] for r in resources["StackResourceSummaries"]}
    assert {
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
    } <= types
    # When a run goes through the origin
    accepted = client.post(
        "/analysis/run", json={"scenario_id": "trend_strength", "fresh": True}
    ).json()
    events = stream_events(client, accepted["stream_url"])
    assert events[-1][2]["status"] == "succeeded"
    run_id = accepted["run_id"]
    # Then it lives in the table, ran in the state machine and wrote to the bucket the
    # stack's outputs name (CloudFormation's generated names, not fixed ones)
    table = stack.outputs["TableName"]
    assert table.startswith(f"{stack.name}-RunsTable-")
    item = stack.client("dynamodb").get_item(
        TableName=table, Key={"PK": {"S": f"RUN#{run_id}"}, "SK": {"S": "RUN"}}
    )
    assert item["Item"]["status"]["S"] == "succeeded"
    executions = stack.client("stepfunctions").list_executions(
        stateMachineArn=stack.outputs["ScenarioRunStateMachineArn"]
    )["executions"]
    assert run_id in {e["name"] for e in executions}
    results = stack.client("s3").list_objects_v2(
        Bucket=stack.outputs["ResultsBucketName"], Prefix=f"runs/{run_id}/"
    )
    assert results.get("KeyCount", 0) > 0


def test_failing_scenario_ends_failed_with_a_readable_reason(client: httpx.Client) -> None:
    accepted = client.post(
        "/analysis/run", json={"scenario_id": "trend_strength", "params": {"as_of": "1990-01-01"}}
    ).json()
    events = stream_events(client, accepted["stream_url"])
    last = events[-1][2]
    assert last["status"] == "failed"
    assert "1990-01-01" in last["error"]["message"]
    run = client.get(accepted["status_url"]).json()
    assert run["status"] == "failed"
    assert run["error"] == last["error"]
    assert run["result"] is None


@pytest.mark.parametrize(
    ("content", "status", "field"),
    [
        (b"{oops", 400, "body"),
        (b'{"scenario_id": "nope"}', 404, "scenario_id"),
        (
            b'{"scenario_id": "trend_strength", "params": {"as_of": "yesterday"}}',
            400,
            "params.as_of",
        ),
    ],
)
def test_client_mistakes_are_4xx_naming_the_field(
    client: httpx.Client, content: bytes, status: int, field: str
) -> None:
    response = client.post(
        "/analysis/run", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["field"] == field


def test_stream_refuses_missing_or_forged_tokens(client: httpx.Client) -> None:
    accepted = client.post(
        "/analysis/run", json={"scenario_id": "trend_strength", "fresh": True}
    ).json()
    bare = accepted["stream_url"].split("?")[0]
    assert client.get(bare).status_code == 401
    assert client.get(bare + "?token=1.2.3").status_code == 401
    assert client.get(accepted["status_url"] + "x").status_code == 404


def test_cancel_is_final_and_streams_to_every_viewer(client: httpx.Client) -> None:
    # Given a run cancelled right after it was accepted (runs take about a second here)
    for _ in range(5):
        accepted = client.post(
            "/analysis/run", json={"scenario_id": "trend_strength", "fresh": True}
        ).json()
        response = client.post(f"{accepted['status_url']}/cancel")
        if response.status_code == 200:
            break
        # it finished first: cancelling a finished run is a conflict, and changes nothing
        assert response.status_code == 409
        assert client.get(accepted["status_url"]).json()["status"] == "succeeded"
    else:
        pytest.skip("every run finished before it could be cancelled")
    assert response.json() == {"run_id": accepted["run_id"], "status": "cancelled"}
    # Then the stream ends with the cancelled status, and nothing follows it
    events = stream_events(client, accepted["stream_url"])
    statuses = [data["status"] for _, kind, data in events if kind == "status"]
    assert statuses[-1] == "cancelled"
    assert "succeeded" not in statuses and "failed" not in statuses
    # And the workflow, finishing later (the worker was already computing), never overwrites it
    time.sleep(2)
    run = client.get(accepted["status_url"]).json()
    assert [e["status"] for e in run["timeline"]][-1] == "cancelled"
    assert run["status"] == "cancelled"
    assert run["result"] is None
    assert client.post(f"{accepted['status_url']}/cancel").status_code == 409


def test_cancels_in_a_burst_end_every_run_even_those_waiting_to_begin(
    stack: Stack, client: httpx.Client
) -> None:
    # Given three times as many runs as the local cloud evaluates at once, started together
    # (the later ones wait their turn: their executions are recorded, not begun)
    count = 3 * EXECUTION_SLOTS_PER_WORKER * (os.cpu_count() or 2)
    body = {"scenario_id": "trend_strength", "fresh": True}
    with ThreadPoolExecutor(16) as pool:
        accepted = list(pool.map(lambda _: client.post("/analysis/run", json=body), range(count)))
        assert {response.status_code for response in accepted} == {202}
        runs = [response.json() for response in accepted]
        # When the user cancels them all at once
        cancels = list(pool.map(lambda run: client.post(f"{run['status_url']}/cancel"), runs))
    # Then every cancel is answered (a run that finished first is a conflict)
    assert {response.status_code for response in cancels} <= {200, 409}
    cancelled = [run for run, cancel in zip(runs, cancels, strict=True) if cancel.is_success]
    # And each cancelled run's execution ends ABORTED; those that never began end before their
    # first state, and the stack stays responsive throughout
    sfn = stack.client("stepfunctions")
    arn = stack.outputs["ScenarioRunStateMachineArn"].replace(":stateMachine:", ":execution:")
    deadline = time.monotonic() + 60
    histories = []
    for run in cancelled:
        execution = f"{arn}:{run['run_id']}"
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{run['run_id']} still running"
            time.sleep(0.1)
        assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
        events = sfn.get_execution_history(executionArn=execution)["events"]
        histories.append([event["type"] for event in events])
        assert client.get(run["status_url"]).json()["status"] == "cancelled"
    assert ["ExecutionStarted", "ExecutionAborted"] in histories, "no cancel met a waiting run"
    assert client.get("/healthz", timeout=5).status_code == 200


def test_a_finished_run_gives_its_in_flight_slot_back(stack: Stack, client: httpx.Client) -> None:
    db, table = stack.client("dynamodb"), stack.outputs["TableName"]

    def in_flight(owner: str) -> set[str]:
        key = {k: {"S": v} for k, v in keys.inflight_key(owner).items()}
        item = db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
        return set(item.get("runs", {}).get("SS", []))

    # Given a run the user started: it holds one of their in-flight slots
    accepted = client.post(
        "/analysis/run", json={"scenario_id": "trend_strength", "fresh": True}
    ).json()
    run_id = accepted["run_id"]
    run_item = db.get_item(
        TableName=table, Key={k: {"S": v} for k, v in keys.run_key(run_id).items()}
    )
    owner = run_item["Item"]["owner"]["S"]
    assert run_id in in_flight(owner)
    # When it finishes (its stream's terminal event)
    assert stream_events(client, accepted["stream_url"])[-1][2]["status"] == "succeeded"
    # Then its slot is free within a couple of seconds, with no start having to reconcile
    deadline = time.monotonic() + 3
    while run_id in in_flight(owner):
        assert time.monotonic() < deadline, "the finished run still holds its slot"
        time.sleep(0.1)
