"""The result cache through RunService against moto: hit, miss, fresh, snapshot change, owners."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from quantdesk import aws, keys
from quantdesk.runs.cache import datasets_read
from quantdesk.runs.models import RunAccepted, RunRequest
from quantdesk.runs.service import RunService
from scenarios.registry import get_spec

SNAPSHOTS = {"prices": "p-1", "universe": "u-1"}
ARTIFACTS = {"report": "runs/x/report.html", "csv": "runs/x/export.csv"}


def publish(**latest: str) -> None:
    """Point the datasets' ``LATEST`` at these snapshot ids (as ingestion's publish does)."""
    for dataset, snapshot_id in latest.items():
        item = {k: {"S": v} for k, v in keys.latest_snapshot_key(dataset).items()}
        aws.client("dynamodb").put_item(
            TableName=resources.TABLE.name,
            Item={**item, "snapshot_id": {"S": snapshot_id}},
        )


def compute(service: RunService, accepted: RunAccepted, snapshots: dict[str, str]) -> None:
    """What the state machine, the worker and the projector do to a run that succeeds."""
    table, run_id = resources.TABLE.name, accepted.run_id
    key = {k: {"S": v} for k, v in keys.run_key(run_id).items()}

    def status(value: str) -> None:
        aws.client("dynamodb").update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :s, finished_at = :now ADD event_seq :one",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": value},
                ":now": {"S": "2026-11-30T12:00:00.000Z"},
                ":one": {"N": "1"},
            },
        )

    status("running")
    service.repo.record_result(
        run_id,
        result_key=f"runs/{run_id}/result.json",
        summary={"row_count": 2},
        snapshots=snapshots,
        timings={"compute_s": 1.5},
        artifacts=ARTIFACTS,
        now="2026-11-30T12:00:00.000Z",
    )
    status("succeeded")
    run = service.repo.get(run_id)
    assert run is not None
    service.cache.remember(run)  # the projector, on the succeeded write


def executions() -> int:
    arn = resources.state_machine_arn(resources.SCENARIO_RUN.name, REGION, ACCOUNT)
    return len(aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])


def request(**overrides: Any) -> RunRequest:
    body: dict[str, Any] = {"scenario_id": "trend_strength", "params": {}, **overrides}
    return RunRequest.model_validate(body)


@pytest.fixture
def computed(service: RunService) -> RunAccepted:
    """alice's default trend_strength run, succeeded on the current snapshots."""
    publish(**SNAPSHOTS)
    first = service.start(request(), "alice")
    compute(service, first, SNAPSHOTS)
    return first


def test_an_identical_request_is_answered_at_once_by_a_cached_run(
    service: RunService, computed: RunAccepted
) -> None:
    started = executions()
    # the same request, spelled with the defaults written out: the validated params are equal
    again = service.start(request(params={"universe": "us_large_cap"}), "alice")
    assert (again.cached, again.cached_from, again.status) == (True, computed.run_id, "succeeded")
    assert again.run_id != computed.run_id
    assert executions() == started  # nothing computes
    run = service.repo.get(again.run_id)
    assert run is not None
    # its own record: already succeeded, one (terminal) event, the original's result and files
    assert (run.status, run.event_seq, run.cached, run.cached_from) == (
        "succeeded",
        1,
        True,
        computed.run_id,
    )
    assert run.result_key == f"runs/{computed.run_id}/result.json"
    assert run.artifacts == ARTIFACTS
    assert run.manifest.data_snapshots == SNAPSHOTS
    # in the history, marked as cached
    runs, _ = service.repo.list_for_owner("alice", 10, None)
    newest = runs[0]
    assert (newest.run_id, newest.cached, newest.cached_from) == (
        again.run_id,
        True,
        computed.run_id,
    )
    # and it holds no slot of the owner's limits (only the computed run took one)
    slots = aws.client("dynamodb").get_item(
        TableName=resources.TABLE.name,
        Key={k: {"S": v} for k, v in keys.inflight_key("alice").items()},
    )
    assert again.run_id not in slots["Item"].get("runs", {}).get("SS", [])
    assert computed.run_id in slots["Item"]["runs"]["SS"]


def test_fresh_computes_even_when_cached(service: RunService, computed: RunAccepted) -> None:
    started = executions()
    fresh = service.start(request(fresh=True), "alice")
    assert (fresh.cached, fresh.cached_from, fresh.status) == (False, None, "queued")
    assert executions() == started + 1
    # once it succeeds, the fresh run is what later requests reuse
    compute(service, fresh, SNAPSHOTS)
    assert service.start(request(), "alice").cached_from == fresh.run_id


@pytest.mark.parametrize("dataset", ["prices", "universe"])
def test_a_new_snapshot_of_a_dataset_read_ends_the_entry(
    service: RunService, computed: RunAccepted, dataset: str
) -> None:
    publish(**{dataset: f"{dataset}-2"})
    again = service.start(request(), "alice")
    assert (again.cached, again.status) == (False, "queued")


def test_a_dataset_the_run_does_not_read_does_not_matter(service: RunService) -> None:
    # explicit tickers: the universe is not read, so its new snapshot keeps the entry
    publish(prices="p-1", universe="u-1")
    tickers = request(params={"tickers": ["AAPL", "MSFT"]})
    first = service.start(tickers, "alice")
    compute(service, first, {"prices": "p-1"})
    publish(universe="u-2")
    assert service.start(tickers, "alice").cached_from == first.run_id
    publish(prices="p-2")
    assert not service.start(tickers, "alice").cached


def test_other_params_scenarios_and_owners_miss(service: RunService, computed: RunAccepted) -> None:
    assert not service.start(request(params={"tickers": ["AAPL"]}), "alice").cached
    assert not service.start(request(params={"universe": "us_mid_cap"}), "alice").cached
    # another owner never reuses (nor learns the id of) alice's run
    assert not service.start(request(), "bob").cached


def test_a_dataset_never_ingested_is_a_miss(service: RunService) -> None:
    publish(prices="p-1")  # no universe snapshot yet
    first = service.start(request(), "alice")
    compute(service, first, {"prices": "p-1"})
    assert not service.start(request(), "alice").cached


def test_an_idempotent_retry_of_a_cached_answer_gets_the_same_run(
    service: RunService, computed: RunAccepted
) -> None:
    first = service.start(request(idempotency_key="k1"), "alice")
    retry = service.start(request(idempotency_key="k1"), "alice")
    assert first.cached and retry.run_id == first.run_id


def test_the_datasets_read_are_those_the_worker_records() -> None:
    spec = get_spec("trend_strength")
    assert spec is not None
    params = spec.params_model.model_validate
    assert datasets_read(spec, params({})) == ("prices", "universe")
    assert datasets_read(spec, params({"tickers": ["AAPL"]})) == ("prices",)
    assert datasets_read(spec, params({"sector": "Energy"})) == ("prices", "sectors", "universe")
