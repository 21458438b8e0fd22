"""Sharded scenario runs: plan slices of a universe, compute each, reduce to the exact result.

A scenario declares its shape (``ScenarioSpec.shard_shape``); both shardable shapes are
planned the same way, as contiguous slices of the sorted symbols:

* ``per_asset``: a shard computes every per-asset statistic (indicators, raw factor values);
  the reduce only standardises, ranks and narrates them;
* ``two_phase``: a shard loads and cleans its assets and condenses them (a window of closes,
  exposures and forward returns at formation dates, daily return sums, its most liquid
  assets); the reduce runs the cross-asset step (equal-weight market, OLS, IC and quantiles,
  pair tests) once over every asset;
* ``single``: the scenario runs on one worker only (no catalogue scenario needs it).

Each shardable scenario's ``compute`` module defines ``map_shard(data, params)`` and
``reduce(partials, context, params)``, and its ``run(data, params)`` is exactly
``reduce([map_shard(data, params)], data, params)``: the single worker is the sharded run with
one shard, so both share one code path and the sharded result equals the single worker's.

The shards must agree on the trading calendar (the same as_of, window and panel dates):
otherwise their forward-filled panels would differ from the whole panel's and the reduce
raises :class:`~scenarios.panel.ShardCalendarError` instead of presenting a different result.

Pure pandas/numpy: the workflow side moves :class:`~scenarios.partial.ShardPartial` bytes
only. Choosing and planning (:func:`shard_shape`, :func:`should_shard`, :func:`plan_shards` of
a per-asset scenario) import neither, so the API (without the analytics layer) imports this
module; a partial is read with ``scenarios.partial.ShardPartial.from_bytes``.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from scenarios.base import ScenarioData, ScenarioParams, ScenarioResult
from scenarios.registry import get_spec

if TYPE_CHECKING:
    from scenarios.partial import ShardPartial

__all__ = [
    "MAX_SHARD_ASSETS",
    "SHAPES",
    "SHARD_THRESHOLD_ASSETS",
    "plan_shards",
    "reduce_shards",
    "run_shard",
    "shard_shape",
    "should_shard",
]

#: universes with more assets than this are sharded by default: ``make bench`` (sharding)
#: measures that with twenty years of sessions loaded the single worker (1,769 MB) holds up to
#: about 2,500 assets (1,000 assets x 5,040 sessions peak at 0.61 GB)
SHARD_THRESHOLD_ASSETS: Final = 2_500
#: assets per shard by default: 0.61 GB peak with twenty years of sessions, well inside the
#: worker's memory, and 20 shards for a 20,000-asset universe
MAX_SHARD_ASSETS: Final = 1_000
SHAPES: Final = ("per_asset", "two_phase", "single")
#: datasets with one row per asset (and date): a shard loads only its assets' rows of these
PER_ASSET_DATASETS: Final = ("prices", "fundamentals", "earnings", "sentiment", "splits")


def shard_shape(scenario_id: str) -> str:
    """How ``scenario_id`` shards (one of :data:`SHAPES`)."""
    spec = get_spec(scenario_id)
    if spec is None:
        raise KeyError(scenario_id)
    return spec.shard_shape or "single"


def should_shard(scenario_id: str, n_assets: int | None, threshold: int | None = None) -> bool:
    """Whether a run over ``n_assets`` assets (None: not known yet, so maybe) goes to the
    sharded workflow; ``threshold`` overrides :data:`SHARD_THRESHOLD_ASSETS`."""
    if shard_shape(scenario_id) == "single":
        return False
    return n_assets is None or n_assets > (threshold or SHARD_THRESHOLD_ASSETS)


def plan_shards(
    scenario_id: str,
    params: ScenarioParams,
    symbols: Sequence[str],
    max_assets: int = MAX_SHARD_ASSETS,
) -> list[dict[str, Any]]:
    """Deterministic, JSON-able shards: ``{"index": k, "symbols": [...]}``.

    ``symbols`` are the universe's assets (every asset with data, or the requested tickers);
    shards are contiguous runs of the sorted symbols, as even as possible, at most
    ``max_assets`` each and at least two: numpy averages a one-column array over dates in
    another floating-point order than a wider one, so a one-asset shard could differ from the
    single worker in the last bit (with ``max_assets=2`` an odd count gives one shard of 3).
    """
    if max_assets < 2:
        raise ValueError("max_assets must be at least 2")
    ordered = sorted({str(s) for s in symbols})
    if shard_shape(scenario_id) == "single":
        return [{"index": 0, "symbols": ordered}]
    n = max(1, min(-(-len(ordered) // max_assets), len(ordered) // 2))
    size, extra = divmod(len(ordered), n)
    plan, start = [], 0
    for index in range(n):
        stop = start + size + (1 if index < extra else 0)
        plan.append({"index": index, "symbols": ordered[start:stop]})
        start = stop
    return plan


def run_shard(
    scenario_id: str, data: ScenarioData, params: ScenarioParams, shard: dict[str, Any]
) -> ShardPartial:
    """Compute one shard. ``data`` holds (at least) the per-asset rows of ``shard["symbols"]``
    and the small whole frames (macro, sectors, universe membership)."""
    _shardable(scenario_id)
    partial: ShardPartial = _compute(scenario_id).map_shard(
        restrict(data, shard["symbols"]), params, shard
    )
    partial.meta["index"] = shard["index"]
    return partial


def reduce_shards(
    scenario_id: str,
    partials: Sequence[ShardPartial],
    context: ScenarioData,
    params: ScenarioParams,
) -> ScenarioResult:
    """The scenario's result from every shard's partial (in any order).

    ``context`` holds the small whole frames; its prices frame may be empty (schema only).
    """
    _shardable(scenario_id)
    ordered = sorted(partials, key=lambda p: int(p.meta.get("index", 0)))
    result: ScenarioResult = _compute(scenario_id).reduce(ordered, context, params)
    return result


def restrict(data: ScenarioData, symbols: Sequence[str]) -> ScenarioData:
    """``data`` with the per-asset datasets cut to ``symbols`` (the whole frames untouched)."""
    wanted = set(symbols)
    cut: dict[str, Any] = {}
    for name in PER_ASSET_DATASETS:
        frame = getattr(data, name)
        if frame is not None and "symbol" in frame.columns:
            inside = frame["symbol"].isin(wanted).to_numpy()
            cut[name] = frame if inside.all() else frame[inside]
    return dataclasses.replace(data, **cut)


def _shardable(scenario_id: str) -> None:
    if shard_shape(scenario_id) == "single":
        raise ValueError(f"{scenario_id} does not shard: run it on one worker")


def _compute(scenario_id: str) -> Any:
    return importlib.import_module(f"scenarios.{scenario_id}.compute")
