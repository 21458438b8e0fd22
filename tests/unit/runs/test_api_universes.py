"""Universes through the API: listed for every caller, checked when a run starts, and a run on a
universe registered from a researcher's own price file computes (the real worker, in moto's
scenario-run state machine)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local import lambda_runtime
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from quantdesk import aws
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.settings import get_settings
from tests.own_tickers import own_prices
from tests.unit.in_process_ingestion import run_ingestion
from tests.unit.lambda_zip import placeholder_zip

JSON = {"Content-Type": "application/json"}
OWN = ("ZETA", "ETA", "THETA", "IOTA", "KAPPA", "LAMBDA")


def ingest(files: dict[str, str], prefix: str, **options: str) -> Any:
    ctx = IngestionContext.from_settings()
    for name, body in files.items():
        ctx.store.put_bytes(prefix + name, body.encode())
    return run_ingestion([FetchRequest(source="files", prefix=prefix, options=options)], ctx)


def post_run(api: Any, params: dict[str, Any]) -> Any:
    body = json.dumps({"scenario_id": "trend_strength", "params": params})
    return api.post("/analysis/run", body=body, headers=JSON)


@pytest.fixture
def own_lake(api: Any) -> Any:
    reference = "universe,symbol,start_date,end_date\nus_large_cap,AAA,2020-01-01,\n"
    assert ingest({"universe.csv": reference}, "landing/ref/").status == "succeeded"
    summary = ingest({"prices.csv": own_prices(OWN)}, "landing/run-1/", batch="my batch")
    assert summary.sources[0].registered.symbols == len(OWN)
    return api


def test_universes_are_listed_with_member_counts_for_every_caller(own_lake: Any) -> None:
    for caller in (own_lake, own_lake.as_user("someone-else")):
        response = caller.get("/analysis/universes")
        assert response.status_code == 200
        body = json.loads(response.body)
        assert body["snapshot_id"]
        counts = {u["name"]: u["members"] for u in body["universes"]}
        assert counts == {"my_batch": len(OWN), "us_large_cap": 1}


def test_an_empty_lake_lists_no_universes(api: Any) -> None:
    body = json.loads(api.get("/analysis/universes").body)
    assert body == {"snapshot_id": None, "universes": []}


def test_a_run_on_a_universe_the_lake_does_not_know_is_a_400_naming_it(own_lake: Any) -> None:
    response = post_run(own_lake, {"universe": "no_such_universe"})
    assert response.status_code == 400
    problem = json.loads(response.body)
    assert problem["field"] == "params.universe"
    assert "my_batch, us_large_cap" in problem["message"]
    # explicit tickers win over the universe: not checked
    assert post_run(own_lake, {"universe": "nope", "tickers": ["ZETA"]}).status_code != 400


def test_a_universe_published_after_a_start_is_accepted_at_once(own_lake: Any) -> None:
    # the first start reads the lake's universes (and keeps them a while for the next starts);
    # past the check it fails only for want of a state machine here
    assert post_run(own_lake, {"universe": "us_large_cap"}).status_code != 400
    assert post_run(own_lake, {"universe": "later_batch"}).status_code == 400
    summary = ingest(
        {"prices.csv": own_prices(("NU", "XI"))}, "landing/run-2/", batch="later batch"
    )
    assert summary.status == "succeeded"
    # a name the kept universes lack is read again: the new universe is known at once
    assert post_run(own_lake, {"universe": "later_batch"}).status_code != 400


@pytest.fixture
def scenario_runs(moto_aws: None) -> None:
    """The scenario-run state machine with the real worker, dispatched in this process."""
    role = aws.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]
    aws.client("lambda").create_function(
        FunctionName=resources.WORKER.name,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler=resources.WORKER.handler,
        Code={"ZipFile": placeholder_zip(resources.WORKER.handler)},
    )
    install(LambdaRuntime((resources.WORKER,), REGION, ACCOUNT))
    aws.client("stepfunctions").create_state_machine(
        name=resources.SCENARIO_RUN.name,
        definition=resources.render_definition(resources.SCENARIO_RUN, REGION, ACCOUNT),
        roleArn=role["Arn"],
    )


def test_a_run_on_a_registered_universe_succeeds(scenario_runs: None, own_lake: Any) -> None:
    response = post_run(own_lake, {"universe": "my_batch", "momentum_lookback": 126})
    assert response.status_code == 202, response.body
    run_id = json.loads(response.body)["run_id"]
    deadline = time.monotonic() + 60
    while (view := json.loads(own_lake.get(f"/analysis/runs/{run_id}").body))["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, "run did not finish"
        time.sleep(0.1)
    assert view["status"] == "succeeded", view.get("error")
    assert {row["symbol"] for row in view["result"]["rows"]} == set(OWN)
    assert view["manifest"]["data_snapshots"]["universe"]


def test_a_run_on_a_universe_over_the_limit_is_a_400_naming_the_limit(
    own_lake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given runs may cover at most five assets and my_batch has six
    monkeypatch.setenv("QD_MAX_UNIVERSE_ASSETS", "5")
    get_settings.cache_clear()
    before = json.loads(own_lake.get("/analysis/universes").body)
    # When a run on it is asked for
    response = post_run(own_lake, {"universe": "my_batch"})
    # Then it is refused, naming the field and the limit, and nothing stored changed
    assert response.status_code == 400
    problem = json.loads(response.body)
    assert problem["field"] == "params.universe"
    assert "has 6 assets" in problem["message"]
    assert "at most 5 (max_universe_assets)" in problem["message"]
    assert json.loads(own_lake.get("/analysis/runs").body)["runs"] == []
    assert json.loads(own_lake.get("/analysis/universes").body) == before
    # a universe within the limit passes the check
    assert post_run(own_lake, {"universe": "us_large_cap"}).status_code != 400


def test_a_run_over_the_threshold_is_planned_and_sharded(
    scenario_runs: None, own_lake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sharding threshold of five assets and shards of two (my_batch has six)
    monkeypatch.setenv("QD_SHARD_THRESHOLD_ASSETS", "5")
    monkeypatch.setenv("QD_MAX_SHARD_ASSETS", "2")
    get_settings.cache_clear()
    # a changed configuration starts fresh worker environments (their settings: cold start)
    worker = (resources.WORKER.code_dir, resources.WORKER.handler)
    monkeypatch.delitem(lambda_runtime._loaded, worker, raising=False)
    # When runs start on it and on a one-asset universe
    large = json.loads(post_run(own_lake, {"universe": "my_batch"}).body)["run_id"]
    small = json.loads(post_run(own_lake, {"universe": "us_large_cap"}).body)["run_id"]
    # Then only the large one may shard, and it computes through its three shards
    sfn = aws.client("stepfunctions")
    arn = get_settings().scenario_run_arn.replace(":stateMachine:", ":execution:")
    for run_id, may_shard in ((large, True), (small, False)):
        described = sfn.describe_execution(executionArn=f"{arn}:{run_id}")
        assert json.loads(described["input"])["may_shard"] is may_shard
    deadline = time.monotonic() + 60
    while (view := json.loads(own_lake.get(f"/analysis/runs/{large}").body))["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, "run did not finish"
        time.sleep(0.1)
    assert view["status"] == "succeeded", view.get("error")
    assert view["manifest"]["timings"]["shards"] == 3
    assert {row["symbol"] for row in view["result"]["rows"]} == set(OWN)
