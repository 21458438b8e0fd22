"""Sharded scenario runs on a 20,000 assets x 5,040 sessions panel (five fields), projected.

The panel (twenty years of OHLCV for a global universe, about 11 GB as a long frame) is never
built whole: each shard's slice is generated on its own, as a shard reads only its assets from
the lake. Measured, for ``trend_strength`` (per-asset) and ``factor_tearsheet`` (two-phase):

* per shard (``MAX_SHARD_ASSETS`` assets, every session): wall time, peak memory (the input
  frame plus the tracemalloc peak of the run) and the partial's bytes, on ``MEASURED_SHARDS``
  shards; the other shards are projected from them;
* the reduce over all 20 shards' partials (the measured partials relabelled as the other
  shards' assets), time and peak;
* the baseline, in the same run: the single worker (``runner(id)(data, params)``) on a
  ``BASELINE_ASSETS`` panel; its time and memory at 20,000 assets are projected linearly from
  it and from the first shard (the single worker on 1,000 assets: the same code path).

From those and list prices it prints the single worker's projected memory against Lambda's
10 GB and time against 15 minutes, the sharded run's projected AWS wall time and cost at
``CONCURRENCY``, and the crossover (universe size above which sharding wins or the single
worker stops fitting) that ``scenarios.sharding.SHARD_THRESHOLD_ASSETS`` is set from.
``python -m tests.benchmarks sharding`` runs only this file.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from infrastructure.resources import WORKER
from scenarios.base import ScenarioData, ScenarioParams
from scenarios.frames import PRICES
from scenarios.partial import ShardPartial
from scenarios.registry import get_spec, runner
from scenarios.sharding import (
    MAX_SHARD_ASSETS,
    SHARD_THRESHOLD_ASSETS,
    plan_shards,
    reduce_shards,
    run_shard,
)
from tests.benchmarks.bench_scenarios import make_prices

N_ASSETS = 20_000
N_SESSIONS = 5_040
MEASURED_SHARDS = 2
BASELINE_ASSETS = 2_000
SCENARIOS = ("trend_strength", "factor_tearsheet")
#: Lambda's limits: the largest memory setting, and the longest run; the worker's setting
LAMBDA_MAX_GB = 10.0
WORKER_GB = WORKER.memory_mb / 1024
LAMBDA_MAX_SECONDS = 900.0
#: Distributed Map MaxConcurrency assumed for the shard children
CONCURRENCY = 100
#: per-child overhead of the map (assumed): the child execution's start and the partial's S3
#: round trip; and one cold start (pandas layer import) per wave of children
CHILD_OVERHEAD_S = 1.0
COLD_START_S = 3.0
#: memory a shard function is configured with: its measured peak with this much headroom,
#: rounded up to whole GB (at least 2 GB)
HEADROOM = 1.5

# List prices, us-east-1, x86 (aws.amazon.com/lambda/pricing, /step-functions/pricing,
# /s3/pricing, as published in 2024-2025):
#: Lambda compute per GB-second, and per request
LAMBDA_GB_S = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1_000_000
#: Step Functions Standard: per state transition; a Distributed Map child (Standard) takes
#: about three (enter the Task, run it, succeed), the parent a handful (choice, map, reduce)
SFN_TRANSITION = 0.025 / 1_000
CHILD_TRANSITIONS = 3
PARENT_TRANSITIONS = 6
#: S3 requests: a shard writes its partial, the reduce reads every partial
S3_PUT = 0.005 / 1_000
S3_GET = 0.0004 / 1_000


def shard_prices(index: int, n_assets: int) -> pd.DataFrame:
    """Shard ``index``'s rows of the synthetic panel, symbols ``Kkk_iiii`` (sorted by shard, as
    the planner cuts them)."""
    return make_prices(
        n_assets, N_SESSIONS, seed=1_000 + index, prefix=f"K{index:02d}_", start="2005-01-03"
    )


@dataclass
class Measured:
    seconds: float
    peak_bytes: int
    value: Any


def measure(fn: Callable[[], Any], *, held_bytes: int = 0) -> Measured:
    """Wall time (untraced run) and peak memory (traced run, plus ``held_bytes`` of input)."""
    gc.collect()
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    del value
    gc.collect()
    tracemalloc.start()
    value = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Measured(seconds, held_bytes + peak, value)


def relabel(partial: ShardPartial, source: int, target: int) -> ShardPartial:
    """A measured partial as if shard ``target`` had computed it (its assets renamed)."""
    old, new = f"K{source:02d}_", f"K{target:02d}_"

    def rename(index: pd.Index) -> pd.Index:
        return pd.Index([str(s).replace(old, new, 1) for s in index], name=index.name)

    frames = {}
    for name, frame in partial.frames.items():
        frames[name] = frame.set_axis(rename(frame.columns), axis=1)
    meta = dict(partial.meta)
    panel = dict(meta["panel"])
    panel["chosen"] = [s.replace(old, new, 1) for s in panel["chosen"]]
    meta["panel"], meta["index"] = panel, target
    frame = partial.frame.set_axis(rename(partial.frame.index), axis=0)
    return ShardPartial(frame=frame, meta=meta, frames=frames)


def gb(n_bytes: float) -> float:
    return n_bytes / 1024**3


def main() -> None:
    n_shards = len(plan_shards(SCENARIOS[0], ScenarioParams(), [f"{i}" for i in range(N_ASSETS)]))
    print(
        f"panel {N_ASSETS:,} assets x {N_SESSIONS:,} sessions x 5 fields "
        f"({n_shards} shards of {MAX_SHARD_ASSETS:,}; {MEASURED_SHARDS} measured, the rest "
        "projected)"
    )
    shard_inputs = [shard_prices(k, MAX_SHARD_ASSETS) for k in range(MEASURED_SHARDS)]
    shard_bytes = int(np.mean([p.memory_usage(deep=True).sum() for p in shard_inputs]))
    baseline_input = pd.concat(
        [shard_prices(k, BASELINE_ASSETS // 2) for k in range(2)], ignore_index=True
    )
    baseline_bytes = int(baseline_input.memory_usage(deep=True).sum())
    print(
        f"input per shard {gb(shard_bytes):.2f} GB; whole panel {gb(shard_bytes * n_shards):.1f} "
        "GB as a long frame (projected)"
    )
    crossovers = []
    for scenario_id in SCENARIOS:
        crossovers.append(
            _scenario(scenario_id, shard_inputs, shard_bytes, baseline_input, baseline_bytes)
        )
    print(
        f"\ncrossover (sharding wins or the single worker stops fitting): "
        f"{', '.join(f'{s} {n:,}' for s, n in zip(SCENARIOS, crossovers, strict=True))} assets; "
        f"SHARD_THRESHOLD_ASSETS = {SHARD_THRESHOLD_ASSETS:,} "
        f"({SHARD_THRESHOLD_ASSETS / min(crossovers):.2f}x the lowest)"
    )


def _scenario(
    scenario_id: str,
    shard_inputs: list[pd.DataFrame],
    shard_bytes: int,
    baseline_input: pd.DataFrame,
    baseline_bytes: int,
) -> int:
    spec = get_spec(scenario_id)
    assert spec is not None
    params = spec.params_model()
    n_shards = -(-N_ASSETS // MAX_SHARD_ASSETS)
    print(f"\n--- {scenario_id} ({spec.shard_shape}) ---")
    shards = []
    for k, prices in enumerate(shard_inputs):
        symbols = sorted(prices["symbol"].unique())
        shard = {"index": k, "symbols": symbols}
        data = ScenarioData(prices=prices)
        shards.append(
            measure(
                lambda d=data, s=shard: run_shard(scenario_id, d, params, s), held_bytes=shard_bytes
            )
        )
    shard_s = float(np.mean([m.seconds for m in shards]))
    shard_peak = max(m.peak_bytes for m in shards)
    blob = shards[0].value.to_bytes()
    print(
        f"shard ({MAX_SHARD_ASSETS:,} assets): {shard_s:.2f} s, peak {gb(shard_peak):.2f} GB, "
        f"partial {len(blob) / 1e6:.1f} MB"
    )
    partials = [
        relabel(ShardPartial.from_bytes(blob), 0, k) if k else ShardPartial.from_bytes(blob)
        for k in range(n_shards)
    ]
    context = ScenarioData(prices=pd.DataFrame(columns=list(PRICES)))
    reduced = measure(
        lambda: reduce_shards(scenario_id, partials, context, params),
        held_bytes=len(blob) * n_shards,
    )
    assert len(reduced.value.data_quality.dropped) == 0
    print(
        f"reduce ({n_shards} partials, {N_ASSETS:,} assets): {reduced.seconds:.2f} s, "
        f"peak {gb(reduced.peak_bytes):.2f} GB"
    )
    baseline = measure(
        lambda: runner(scenario_id)(ScenarioData(prices=baseline_input), params),
        held_bytes=baseline_bytes,
    )
    # the single worker is linear in assets: through (1,000: the shard) and the baseline
    slope_s = (baseline.seconds - shard_s) / (BASELINE_ASSETS - MAX_SHARD_ASSETS)
    slope_b = (baseline.peak_bytes - shard_peak) / (BASELINE_ASSETS - MAX_SHARD_ASSETS)

    def single_s(n: int) -> float:
        return shard_s + slope_s * (n - MAX_SHARD_ASSETS)

    def single_bytes(n: int) -> float:
        return shard_peak + slope_b * (n - MAX_SHARD_ASSETS)

    print(
        f"baseline single worker ({BASELINE_ASSETS:,} assets, measured): {baseline.seconds:.2f} s,"
        f" peak {gb(baseline.peak_bytes):.2f} GB"
    )
    full_s, full_b = single_s(N_ASSETS), single_bytes(N_ASSETS)
    fits = gb(full_b) <= LAMBDA_MAX_GB and full_s <= LAMBDA_MAX_SECONDS
    print(
        f"single worker at {N_ASSETS:,} (projected): {full_s:.1f} s, {gb(full_b):.1f} GB vs "
        f"Lambda's {LAMBDA_MAX_GB:.0f} GB / {LAMBDA_MAX_SECONDS:.0f} s: "
        f"{'fits' if fits else 'does NOT fit'} ({gb(full_b) / LAMBDA_MAX_GB:.2f}x the memory)"
    )
    reduce_per_asset = reduced.seconds / N_ASSETS

    def sharded_s(n: int) -> float:
        waves = math.ceil(math.ceil(n / MAX_SHARD_ASSETS) / CONCURRENCY)
        return COLD_START_S + waves * (shard_s + CHILD_OVERHEAD_S) + reduce_per_asset * n

    wall = sharded_s(N_ASSETS)
    shard_gb = max(2, math.ceil(gb(shard_peak) * HEADROOM))
    reduce_gb = max(2, math.ceil(gb(reduced.peak_bytes) * HEADROOM))
    single_gb = min(LAMBDA_MAX_GB, math.ceil(gb(full_b) * HEADROOM))
    lambda_cost = (
        n_shards * shard_gb * (shard_s + COLD_START_S) + reduce_gb * reduced.seconds
    ) * LAMBDA_GB_S + (n_shards + 1) * LAMBDA_REQUEST
    sfn_cost = (n_shards * CHILD_TRANSITIONS + PARENT_TRANSITIONS) * SFN_TRANSITION
    s3_cost = n_shards * (S3_PUT + S3_GET)
    single_cost = single_gb * (full_s + COLD_START_S) * LAMBDA_GB_S + LAMBDA_REQUEST
    print(
        f"sharded on AWS (projected, concurrency {CONCURRENCY}, {CHILD_OVERHEAD_S:.0f} s per "
        f"child, {COLD_START_S:.0f} s cold start): {wall:.1f} s wall = "
        f"speed-up {(COLD_START_S + full_s) / wall:.1f}x over the single worker (if it fitted); "
        f"${lambda_cost + sfn_cost + s3_cost:.4f} per run (Lambda ${lambda_cost:.4f} at "
        f"{shard_gb} GB/shard, Step Functions ${sfn_cost:.4f}, S3 ${s3_cost:.5f}) vs "
        f"${single_cost:.4f} single at {single_gb} GB if it fitted"
    )
    by_time = next(
        (
            n
            for n in range(MAX_SHARD_ASSETS, 200_001, 500)
            if sharded_s(n) < COLD_START_S + single_s(n)
        ),
        200_000,
    )

    def outgrows(limit_gb: float) -> int:
        sizes = range(MAX_SHARD_ASSETS, 200_001, 500)
        return next((n - 500 for n in sizes if gb(single_bytes(n)) > limit_gb), 200_000)

    by_worker, by_lambda = outgrows(WORKER_GB), outgrows(LAMBDA_MAX_GB)
    print(
        f"crossover: sharding is faster above {by_time:,} assets; with every session loaded the "
        f"single worker fits up to {by_worker:,} assets at its {WORKER.memory_mb} MB, "
        f"{by_lambda:,} at {LAMBDA_MAX_GB:.0f} GB"
    )
    return min(by_time, by_worker)
