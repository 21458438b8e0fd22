"""``factor_ladder``: winsorised factor z-scores, weighted composite, bucket ladder.

Input: prices (``close``), fundamentals (point-in-time), sectors (optional unless
``sector_neutral``). Output: one row per asset, rank 1 = best composite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.crosssection import buckets, mean_available, neutralize, zscore
from scenarios.factor_ladder import Params
from scenarios.factors import PRICE_FACTORS, fundamental_factors, price_factor
from scenarios.mapreduce import gather, map_assets, metrics_of
from scenarios.narrative import Narrative, num
from scenarios.panel import Panel, sector_map
from scenarios.partial import ShardPartial
from scenarios.pointintime import fundamentals_as_of, require, split_adjusted
from scenarios.table import assemble, bar_series, ranked_rows

FACTORS = ("value", "quality", "momentum", "low_volatility", "size")
#: fundamental sub-scores a shard hands to the reduce (with the raw price factors)
SUBSCORES = ("book_to_price", "earnings_yield", "roe", "low_leverage", "size")
RAW_COLUMNS = (*SUBSCORES, "momentum", "low_volatility")

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="sector", label="Sector", kind="text"),
    Column(name="value", label="Value z"),
    Column(name="quality", label="Quality z"),
    Column(name="momentum", label="Momentum z"),
    Column(name="low_volatility", label="Low-vol z"),
    Column(name="size", label="Size z"),
    Column(name="composite", label="Composite"),
    Column(name="bucket", label="Bucket", kind="integer", description="1 = best"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's raw factor sub-scores (point-in-time fundamentals, price factors)."""
    fundamentals = split_adjusted(require(data, "fundamentals"), data.splits)

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        close = panel["close"]
        t = close.shape[0] - 1
        snapshot = fundamentals_as_of(fundamentals, panel.symbols.tolist(), panel.as_of, panel.log)
        raw = fundamental_factors(snapshot, close[t])
        columns = {name: raw[name] for name in SUBSCORES}
        columns["momentum"] = price_factor("momentum_12_1", close, t)
        columns["low_volatility"] = price_factor("low_volatility", close, t)
        return pd.DataFrame(columns, index=panel.symbols), {}

    return map_assets(
        data,
        params,
        compute,
        RAW_COLUMNS,
        fields=("close",),
        min_sessions={"momentum": PRICE_FACTORS["momentum_12_1"]},
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Cross-sectional standardisation, the composite, buckets, ranks and narrative."""
    log, as_of, frame = gather(partials, params)
    raw = metrics_of(frame)
    symbols = [str(s) for s in raw["symbol"]]
    sectors = _sectors(context, symbols, params)

    def standardise(values: np.ndarray) -> np.ndarray:
        if params.sector_neutral:
            return neutralize(values, sectors, params.winsor_limit)
        return zscore(values, params.winsor_limit)

    exposures = {
        "value": mean_available(
            [standardise(raw["book_to_price"]), standardise(raw["earnings_yield"])]
        ),
        "quality": mean_available([standardise(raw["roe"]), standardise(raw["low_leverage"])]),
        "momentum": standardise(raw["momentum"]),
        "low_volatility": standardise(raw["low_volatility"]),
        "size": standardise(raw["size"]),
    }
    weights = {f: getattr(params, f"weight_{f}") for f in FACTORS}
    if sum(weights.values()) <= 0:
        raise ScenarioInputError("at least one factor weight must be positive", "weight_value")
    composite = _weighted(exposures, weights)
    metrics: dict[str, Any] = {
        "symbol": np.asarray(symbols, dtype=object),
        "sector": sectors,
        **exposures,
        "composite": composite,
        "score": composite,
        "bucket": buckets(composite, symbols, params.n_buckets),
    }
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "factor_ladder",
        as_of,
        COLUMNS,
        rows,
        series=_charts(rows, params),
        story=_narrative(rows, weights),
        quality=log.freeze(assets_used=len(symbols)),
    )


def _sectors(data: ScenarioData, symbols: list[str], params: Params) -> list[str]:
    if data.sectors is None:
        if params.sector_neutral:
            raise ScenarioInputError("sector_neutral needs sector data", field="sector_neutral")
        return ["unknown"] * len(symbols)
    lookup = sector_map(data.sectors)
    return [lookup.get(s, "unknown") for s in symbols]


def _weighted(exposures: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    total = np.zeros_like(next(iter(exposures.values())))
    weight = np.zeros_like(total)
    for name, values in exposures.items():
        if weights[name] > 0:
            finite = np.isfinite(values)
            total += np.where(finite, values * weights[name], 0.0)
            weight += np.where(finite, weights[name], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, np.nan)


def _charts(rows: list[dict[str, Any]], params: Params) -> list[Any]:
    labels = [str(b) for b in range(1, params.n_buckets + 1)]
    means: dict[str, list[float]] = {}
    for factor in (*FACTORS, "composite"):
        means[factor] = []
        for bucket in range(1, params.n_buckets + 1):
            values = [r[factor] for r in rows if r["bucket"] == bucket and r[factor] is not None]
            means[factor].append(float(np.mean(values)) if values else float("nan"))
    return [bar_series("Average factor z-score by bucket (1 = best)", labels, means)]


def _narrative(rows: list[dict[str, Any]], weights: dict[str, float]) -> Narrative:
    story = Narrative()
    used = [f for f in FACTORS if weights[f] > 0]
    story.say(
        f"Composite of {', '.join(used)} across {len(rows)} assets; "
        f"{sum(r['bucket'] == 1 for r in rows)} sit in the top bucket.",
        field="bucket",
    )
    best = rows[0]
    driver = max(used, key=lambda f: (best[f] if best[f] is not None else -np.inf, f))
    story.about(
        best,
        "composite",
        f"Best composite: {best['symbol']} at {num(best['composite'], 2)}, driven by "
        f"{driver} (z {num(best[driver], 2)}).",
    )
    story.about(best, driver, f"{best['symbol']}'s {driver} z-score is {num(best[driver], 2)}.")
    if len(rows) > 1:
        worst = rows[-1]
        drag = min(used, key=lambda f: (worst[f] if worst[f] is not None else np.inf, f))
        story.about(
            worst,
            "composite",
            f"Weakest: {worst['symbol']} at {num(worst['composite'], 2)}, dragged by {drag} "
            f"(z {num(worst[drag], 2)}).",
        )
    return story
