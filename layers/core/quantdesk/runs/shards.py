"""A sharded run's three jobs (the scenario-run state machine's Distributed Map path).

``plan`` checks the data once, pins the snapshots and the window every shard reads, resolves
the universe and chooses: ``single`` (the one worker, :func:`quantdesk.runs.worker_job.execute`)
up to the threshold, else ``sharded``, writing the shards as one JSON array to S3 for the map's
``ItemReader``. Each ``shard`` reads only its assets (the lake prunes partitions by symbol
bucket), computes its partial (:func:`scenarios.sharding.run_shard`), stores it under the run's
prefix and counts itself done. ``reduce`` assembles the partials into the result the single
worker would have computed and stores it exactly as the single worker does.

Every job stops with :class:`RunCancelled` once the run is no longer running (cancel).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, Final, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel

from quantdesk import aws
from quantdesk.clock import now_iso
from quantdesk.datalake.reader import Lake, load_scenario_data, scenario_symbols
from quantdesk.datalake.repository import SnapshotRepository
from quantdesk.datalake.universes import lake_universes
from quantdesk.observability import logger
from quantdesk.runs.models import Progress
from quantdesk.runs.repository import NotActive
from quantdesk.runs.worker_job import RunCancelled, RunJob
from quantdesk.settings import Settings
from scenarios import sharding
from scenarios.base import ScenarioData, ScenarioParams
from scenarios.partial import ShardPartial

#: progress percent when the shards start and when all are done (the plan reports up to 20,
#: the reduce and the stored result from 88)
SHARDS_FROM: Final = 20
SHARDS_TO: Final = 85


class ShardFailed(Exception):
    """A shard's computation failed: the message names the shard (the run's failure reason)."""


class MissingPartial(Exception):
    """The reduce found no partial for a shard (it never finished): no partial result."""


class Plan(BaseModel):
    """What the plan decided, passed by the state machine to every shard and to the reduce."""

    mode: Literal["single", "sharded"]
    assets: int
    total: int = 0
    bucket: str = ""
    shards_key: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    #: ``{dataset: snapshot_id}`` every job reads, so all shards see the same data
    snapshots: dict[str, str] = {}


def shards_prefix(run_id: str) -> str:
    """Where a run's shard list and partials live: under ``shards/``, which the results
    bucket's lifecycle rule expires (``RESULTS_RETENTION_DAYS``), in case the reduce never ran
    or could not delete them."""
    return f"shards/{run_id}/"


def shard_list_key(run_id: str) -> str:
    return f"{shards_prefix(run_id)}shards.json"


def partial_key(run_id: str, index: int) -> str:
    return f"{shards_prefix(run_id)}partial-{index:05d}.bin"


def plan(
    run_id: str, scenario_id: str, raw_params: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    job = RunJob.open(run_id, scenario_id, raw_params, settings)
    params = job.params
    limit = settings.shard_threshold_assets or sharding.SHARD_THRESHOLD_ASSETS
    # most runs are small: decided from one read, the single worker checks the data itself
    most = _most_assets(params, settings)
    if not sharding.should_shard(scenario_id, most, limit):
        logger.info("single worker", extra={"assets_at_most": most, "threshold": limit})
        return Plan(mode="single", assets=most or 0).model_dump(mode="json")
    start, end = job.check_data()
    symbols, snapshots = scenario_symbols(
        job.datasets, universe=params.universe, tickers=params.tickers, start=start, end=end
    )
    if not sharding.should_shard(scenario_id, len(symbols), limit):
        logger.info("single worker", extra={"assets": len(symbols), "threshold": limit})
        return Plan(mode="single", assets=len(symbols)).model_dump(mode="json")
    per_shard = settings.max_shard_assets or sharding.MAX_SHARD_ASSETS
    shards = sharding.plan_shards(scenario_id, params, symbols, max_assets=per_shard)
    key = shard_list_key(run_id)
    aws.client("s3").put_object(
        Bucket=settings.results_bucket,
        Key=key,
        Body=json.dumps(shards).encode(),
        ContentType="application/json",
    )
    job.progress(
        "computing",
        SHARDS_FROM,
        f"0/{len(shards)} shards done: {len(symbols)} assets in {len(shards)} shards "
        f"(over {limit} assets: sharded)",
    )
    logger.info("sharded", extra={"assets": len(symbols), "shards": len(shards)})
    return Plan(
        mode="sharded",
        assets=len(symbols),
        total=len(shards),
        bucket=settings.results_bucket,
        shards_key=key,
        start=start,
        end=end,
        snapshots=snapshots,
    ).model_dump(mode="json")


def _most_assets(params: ScenarioParams, settings: Settings) -> int | None:
    """An upper bound of the run's assets without reading the lake's files: the tickers, or
    every symbol the universe ever had (its snapshot record's summary); None if unknown."""
    if params.tickers:
        return len(params.tickers)
    universes = lake_universes(SnapshotRepository(settings.table_name)).universes
    return next((u.symbols for u in universes if u.name == params.universe), None)


def _load(job: RunJob, decided: Plan, only: set[str]) -> tuple[ScenarioData, dict[str, str]]:
    if decided.start is None:
        raise ValueError("a single-worker plan has no shards")
    return load_scenario_data(
        job.datasets,
        universe=job.params.universe,
        tickers=job.params.tickers,
        start=decided.start,
        end=decided.end,
        lake=Lake.from_settings(job.settings),
        pinned=decided.snapshots,
        only_symbols=only,
    )


def shard(
    run_id: str,
    scenario_id: str,
    raw_params: dict[str, Any],
    *,
    raw_plan: dict[str, Any],
    piece: dict[str, Any],
    settings: Settings,
) -> dict[str, Any]:
    job = RunJob.open(run_id, scenario_id, raw_params, settings)
    decided = Plan.model_validate(raw_plan)
    index = int(piece["index"])
    run = job.repo.get(run_id)
    if run is None or run.status != "running":
        raise RunCancelled(f"run {run_id} is no longer running")
    name = f"shard {index} of {decided.total} ({len(piece['symbols'])} assets)"
    try:
        data, _ = _load(job, decided, set(piece["symbols"]))
        partial = sharding.run_shard(scenario_id, data, job.params, piece)
    except Exception as exc:
        raise ShardFailed(f"{name} failed: {type(exc).__name__}: {exc}") from exc
    key = partial_key(run_id, index)
    aws.client("s3").put_object(Bucket=settings.results_bucket, Key=key, Body=partial.to_bytes())
    try:
        done = job.repo.shard_done(run_id, index)
        percent = SHARDS_FROM + (SHARDS_TO - SHARDS_FROM) * done / max(decided.total, 1)
        job.repo.record_shard_progress(
            run_id,
            done,
            Progress(
                step="computing",
                percent=round(percent, 1),
                message=f"{done}/{decided.total} shards done",
            ),
            now_iso(),
        )
    except NotActive as exc:
        raise RunCancelled(f"run {run_id} is no longer running") from exc
    logger.info("shard computed", extra={"index": index, "done": done, "total": decided.total})
    return {"index": index, "partial_key": key}


def reduce(
    run_id: str,
    scenario_id: str,
    raw_params: dict[str, Any],
    raw_plan: dict[str, Any],
    settings: Settings,
) -> dict[str, Any]:
    job = RunJob.open(run_id, scenario_id, raw_params, settings)
    decided = Plan.model_validate(raw_plan)
    started = time.perf_counter()
    s3 = aws.client("s3")
    partials = []
    for index in range(decided.total):
        try:
            body = s3.get_object(Bucket=settings.results_bucket, Key=partial_key(run_id, index))
        except ClientError as exc:
            raise MissingPartial(f"shard {index} of {decided.total} left no partial") from exc
        partials.append(ShardPartial.from_bytes(body["Body"].read()))
    total = decided.total
    job.progress("combining", SHARDS_TO + 3, f"{total}/{total} shards done; combining them")
    context, snapshots = _load(job, decided, set())
    timings = {"load_s": round(time.perf_counter() - started, 4)}
    started = time.perf_counter()
    result = sharding.reduce_shards(scenario_id, partials, context, job.params)
    timings["compute_s"] = round(time.perf_counter() - started, 4)
    timings["shards"] = decided.total
    stored = job.store_result(result, snapshots, timings)
    _delete_shards(s3, settings.results_bucket, run_id, decided.total)
    return stored


def _delete_shards(s3: Any, bucket: str, run_id: str, total: int) -> None:
    """Best effort, once the result is stored: the lifecycle rule expires what is left."""
    keys = [shard_list_key(run_id), *(partial_key(run_id, i) for i in range(total))]
    try:
        for start in range(0, len(keys), 1000):
            objects = [{"Key": k} for k in keys[start : start + 1000]]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    except ClientError as exc:
        logger.warning("shard partials left to expire", extra={"error": str(exc)})
