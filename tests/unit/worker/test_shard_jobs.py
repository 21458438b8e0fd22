"""A sharded run's plan, shard and reduce jobs over moto: the stored result is the single
worker's, the shards count themselves once each, a failing shard names itself, and a
cancelled run stops its shards."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from quantdesk import aws
from quantdesk.datalake.writer import publish_snapshot, stage_snapshot
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.runs import shards
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.results import ResultStore
from quantdesk.runs.service import queued_run
from quantdesk.runs.worker_job import RunCancelled, execute
from quantdesk.settings import Settings, get_settings
from scenarios import sharding
from scenarios.registry import get_spec
from tests.unit.worker.test_worker_job import _world

SCENARIO = "trend_strength"
PARAMS: dict[str, Any] = {"universe": "us_all"}


def _full_calendar_world() -> dict[str, pd.DataFrame]:
    """The worker tests' world without its listing and its delisting: shards must share the
    trading calendar (``scenarios.sharding``), which a two-asset shard of only those two
    would not."""
    frames = _world()
    return {
        name: frame[~frame["symbol"].isin(["OLD", "NEW"])].reset_index(drop=True)
        for name, frame in frames.items()
    }


@pytest.fixture
def world(ctx: IngestionContext) -> dict[str, pd.DataFrame]:
    frames = _full_calendar_world()
    for dataset, frame in frames.items():
        staged = stage_snapshot(ctx.store, ctx.snapshots, dataset, frame, sources=["test"])
        publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r1", now=ctx.clock())
    return frames


@pytest.fixture
def small_shards(world: dict[str, pd.DataFrame]) -> Settings:
    """Settings that shard the four-asset world into two shards of two."""
    return get_settings().model_copy(update={"shard_threshold_assets": 2, "max_shard_assets": 2})


def _running(run_id: str, params: dict[str, Any] = PARAMS) -> RunRepository:
    spec = get_spec(SCENARIO)
    assert spec is not None
    repo = RunRepository(get_settings().table_name)
    run = queued_run(run_id, "researcher", spec, params, code_version="test")
    repo.create(run.model_copy(update={"status": "running"}))
    return repo


def _pieces(settings: Settings, plan: dict[str, Any]) -> list[dict[str, Any]]:
    body = aws.client("s3").get_object(Bucket=plan["bucket"], Key=plan["shards_key"])["Body"]
    pieces: list[dict[str, Any]] = json.loads(body.read())
    return pieces


def _listed(settings: Settings, prefix: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=settings.results_bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _shard(run_id: str, plan: dict[str, Any], piece: dict[str, Any], settings: Settings) -> Any:
    return shards.shard(run_id, SCENARIO, PARAMS, raw_plan=plan, piece=piece, settings=settings)


def test_a_sharded_run_stores_what_the_single_worker_stores(small_shards: Settings) -> None:
    # Given a run over four assets with a threshold of two
    repo = _running("run-sharded")
    # When it is planned, each shard computed, and the partials reduced
    plan = shards.plan("run-sharded", SCENARIO, PARAMS, small_shards)
    assert (plan["mode"], plan["assets"], plan["total"]) == ("sharded", 4, 2)
    pieces = _pieces(small_shards, plan)
    assert sorted(s for p in pieces for s in p["symbols"]) == ["AAA", "BBB", "CCC", "DDD"]
    for piece in pieces:
        _shard("run-sharded", plan, piece, small_shards)
    working = _listed(small_shards, "shards/run-sharded/")
    assert len(working) == 3  # the shard list and two partials, where the lifecycle rule expires
    stored = shards.reduce("run-sharded", SCENARIO, PARAMS, plan, small_shards)
    assert _listed(small_shards, "shards/") == []  # deleted once the result is stored
    # Then the stored result, artifacts and snapshots are the single worker's on the same data
    _running("run-single")
    single = execute("run-single", SCENARIO, PARAMS, get_settings())
    results = ResultStore(small_shards.results_bucket)
    assert results.get(stored["result_key"]) == results.get(single["result_key"])
    sharded_run, single_run = repo.get("run-sharded"), repo.get("run-single")
    assert sharded_run is not None and single_run is not None
    assert sharded_run.manifest.data_snapshots == single_run.manifest.data_snapshots
    assert set(sharded_run.artifacts) == set(single_run.artifacts)
    assert sharded_run.result_summary == single_run.result_summary
    assert sharded_run.manifest.timings["shards"] == 2


def test_shards_count_themselves_once_each_and_report_done_over_total(
    small_shards: Settings,
) -> None:
    repo = _running("run-count")
    plan = shards.plan("run-count", SCENARIO, PARAMS, small_shards)
    pieces = _pieces(small_shards, plan)
    # When shard 0 runs twice (a retry after it had counted itself) and shard 1 once
    _shard("run-count", plan, pieces[0], small_shards)
    first = repo.get("run-count")
    assert first is not None and first.progress is not None
    assert first.progress.message == "1/2 shards done"
    _shard("run-count", plan, pieces[0], small_shards)
    for piece in pieces[1:]:
        _shard("run-count", plan, piece, small_shards)
    # Then the count is two of two, reported once per new count (the count is an ADD to a
    # number set: one UpdateItem, atomic on DynamoDB; moto's in-process table is not atomic
    # across threads, so concurrent shards are left to the integration test)
    run = repo.get("run-count")
    assert run is not None and run.progress is not None
    assert run.progress.message == "2/2 shards done"
    assert run.progress.percent == shards.SHARDS_TO
    assert run.event_seq == first.event_seq + 1


def test_a_failing_shard_names_itself_and_writes_no_partial(
    small_shards: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _running("run-fail")
    plan = shards.plan("run-fail", SCENARIO, PARAMS, small_shards)
    piece = _pieces(small_shards, plan)[1]

    def broken(*args: Any) -> Any:
        raise ValueError("no close prices")

    monkeypatch.setattr(sharding, "run_shard", broken)
    # When shard 1's computation fails
    with pytest.raises(shards.ShardFailed) as failed:
        _shard("run-fail", plan, piece, small_shards)
    # Then its error says which shard and why, and the reduce refuses a partial result
    assert str(failed.value) == "shard 1 of 2 (2 assets) failed: ValueError: no close prices"
    with pytest.raises(shards.MissingPartial, match="shard 0 of 2 left no partial"):
        shards.reduce("run-fail", SCENARIO, PARAMS, plan, small_shards)


def test_a_cancelled_run_stops_its_shards(small_shards: Settings) -> None:
    repo = _running("run-cancel")
    plan = shards.plan("run-cancel", SCENARIO, PARAMS, small_shards)
    piece = _pieces(small_shards, plan)[0]
    # When the user cancels before a shard starts
    repo.finish("run-cancel", "cancelled", "2026-11-02T22:00:00Z", RunError(type="C", message="x"))
    # Then the shard stops without computing or counting
    with pytest.raises(RunCancelled):
        _shard("run-cancel", plan, piece, small_shards)
    listed = aws.client("s3").list_objects_v2(
        Bucket=small_shards.results_bucket, Prefix=shards.partial_key("run-cancel", 0)
    )
    assert listed.get("KeyCount", 0) == 0


def test_a_small_universe_goes_to_the_single_worker_without_reading_the_lake(
    world: dict[str, pd.DataFrame],
) -> None:
    repo = _running("run-small")
    before = repo.get("run-small")
    # When the default threshold is far above four assets
    plan = shards.plan("run-small", SCENARIO, PARAMS, get_settings())
    # Then the single worker computes it: no shard list, no progress event from the plan
    assert (plan["mode"], plan["assets"]) == ("single", 4)
    after = repo.get("run-small")
    assert before is not None and after is not None
    assert after.event_seq == before.event_seq
