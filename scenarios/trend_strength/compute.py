"""``trend_strength``: ADX, moving-average slope/distance and 12-1 momentum on a price panel.

Input: the long price frame (``date, symbol, open, high, low, close, volume``); the scenario
reads ``high``, ``low`` and ``close`` as ``(T, N)`` arrays via :func:`scenarios.panel.scan_panel`.
Output: one row per asset, ranked by the composite score.

Sharded by asset: :func:`map_shard` computes each asset's indicators (and its chart windows),
:func:`reduce` the cross-sectional z-scores, ranks, charts and narrative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioResult, Series
from scenarios.crosssection import mean_available, zscore
from scenarios.indicators import adx
from scenarios.mapreduce import chart_window, gather, map_assets, stack_wide
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel
from scenarios.partial import ShardPartial
from scenarios.table import (
    assemble,
    bar_series,
    column_values,
    extreme,
    line_series,
    ranked_rows,
)
from scenarios.trend_strength import Params

#: sessions shown in the time-series charts (about six months)
CHART_SESSIONS = 126
#: most lines drawn in one chart
CHART_LINES = 5
#: per-asset values a shard hands to the reduce (the cross-sectional score is computed there)
ASSET_METRICS = (
    "close",
    "adx",
    "plus_di",
    "minus_di",
    "signed_adx",
    "ma_slope",
    "ma_distance",
    "momentum_12_1",
)

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="close", label="Close", description="Last close at as_of"),
    Column(name="adx", label="ADX", description="Average directional index (Wilder)"),
    Column(name="plus_di", label="+DI", description="Positive directional indicator"),
    Column(name="minus_di", label="-DI", description="Negative directional indicator"),
    Column(name="direction", label="Direction", kind="text", description="up if +DI > -DI"),
    Column(name="trending", label="Trending", kind="text", description="ADX >= threshold"),
    Column(name="ma_slope", label="MA slope", kind="percent", description="MA change over window"),
    Column(name="ma_distance", label="Distance from MA", kind="percent"),
    Column(name="momentum_12_1", label="12-1 momentum", kind="percent"),
    Column(name="score", label="Score", description="Mean of winsorised z-scores"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Per-asset indicators of one slice of assets (everything but the cross-section)."""

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        adx_panel, plus_di, minus_di = adx(
            panel["high"], panel["low"], panel["close"], params.adx_period
        )
        frame = _asset_metrics(panel, params, adx_panel[-1], plus_di[-1], minus_di[-1])
        window = slice(max(0, panel.n_dates - CHART_SESSIONS), panel.n_dates)
        return frame, {
            "adx": chart_window(panel, adx_panel, CHART_SESSIONS),
            "distance": _distance_window(panel, params, window),
        }

    return map_assets(
        data,
        params,
        compute,
        ASSET_METRICS,
        fields=("high", "low", "close"),
        min_sessions=params.needs(),
        window=params.sessions(),
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Score, rank, chart and narrate every slice's assets."""
    log, as_of, frame = gather(partials, params)
    metrics: dict[str, Any] = {"symbol": frame.index.to_numpy().astype(object)}
    metrics.update({name: frame[name].to_numpy() for name in ASSET_METRICS})
    adx_now, plus_now, minus_now = metrics["adx"], metrics["plus_di"], metrics["minus_di"]
    metrics["direction"] = np.where(plus_now >= minus_now, "up", "down")
    metrics["trending"] = np.where(adx_now >= params.adx_threshold, "yes", "no")
    metrics["score"] = mean_available(
        [
            zscore(metrics["momentum_12_1"]),
            zscore(metrics["ma_slope"]),
            zscore(metrics["ma_distance"]),
            zscore(metrics["signed_adx"]),
        ]
    )
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "trend_strength",
        as_of,
        COLUMNS,
        rows,
        series=_charts(stack_wide(partials, "adx"), stack_wide(partials, "distance"), params, rows),
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(frame)),
    )


def _asset_metrics(
    panel: Panel,
    params: Params,
    adx_now: np.ndarray,
    plus_now: np.ndarray,
    minus_now: np.ndarray,
) -> pd.DataFrame:
    close = panel["close"]
    last = close[-1]
    ma_now = close[-params.ma_window :].mean(axis=0)
    end_before = close.shape[0] - params.slope_window
    ma_before = close[end_before - params.ma_window : end_before].mean(axis=0)
    momentum = close[-1 - params.momentum_skip] / close[-1 - params.momentum_lookback] - 1.0
    columns = {
        "close": last,
        "adx": adx_now,
        "plus_di": plus_now,
        "minus_di": minus_now,
        "signed_adx": adx_now * np.sign(plus_now - minus_now),
        "ma_slope": ma_now / ma_before - 1.0,
        "ma_distance": last / ma_now - 1.0,
        "momentum_12_1": momentum,
    }
    return pd.DataFrame(columns, index=panel.symbols)


def _distance_window(panel: Panel, params: Params, window: slice) -> pd.DataFrame:
    """Every asset's distance from its moving average over the chart window."""
    close = panel["close"]
    ma = np.full((window.stop - window.start, close.shape[1]), np.nan)
    for t in range(window.start, window.stop):
        if t + 1 >= params.ma_window:
            ma[t - window.start] = close[t + 1 - params.ma_window : t + 1].mean(axis=0)
    distance = close[window] / ma - 1.0
    return pd.DataFrame(distance, index=panel.dates[window], columns=panel.symbols)


def _charts(
    adx_window: pd.DataFrame,
    distance: pd.DataFrame,
    params: Params,
    rows: list[dict[str, Any]],
) -> list[Series]:
    names = [str(r["symbol"]) for r in rows[: min(params.top_n, CHART_LINES)]]
    top = rows[: params.top_n]
    dates = pd.DatetimeIndex(adx_window.index)
    return [
        bar_series(
            "Composite trend score (leaders)",
            [str(r["symbol"]) for r in top],
            {"score": [float(r["score"]) if r["score"] is not None else np.nan for r in top]},
        ),
        line_series(
            "ADX of the leaders",
            dates,
            {name: adx_window[name].to_numpy() for name in names},
        ),
        line_series(
            f"Distance from the {params.ma_window}-session moving average",
            dates,
            {name: distance[name].to_numpy() for name in names},
        ),
    ]


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    trending = [r for r in rows if r["trending"] == "yes"]
    rising = [r for r in trending if r["direction"] == "up"]
    story.say(
        f"{len(trending)} of {len(rows)} assets are trending (ADX >= "
        f"{num(params.adx_threshold, 0)}), {len(rising)} of them upward.",
        field="trending",
    )
    best = rows[0]
    story.about(
        best,
        "score",
        f"{best['symbol']} leads with score {num(best['score'], 2)}: ADX {num(best['adx'])} "
        f"({best['direction']}trend), 12-1 momentum {pct(best['momentum_12_1'])}, "
        f"{pct(best['ma_distance'])} from its {params.ma_window}-session average.",
    )
    strongest = extreme(rows, "adx")
    if strongest:
        story.about(
            strongest,
            "adx",
            f"The strongest trend by ADX is {strongest['symbol']} at {num(strongest['adx'])} "
            f"({strongest['direction']}).",
        )
    fastest = extreme(rows, "momentum_12_1")
    if fastest:
        story.about(
            fastest,
            "momentum_12_1",
            f"Highest 12-1 momentum: {fastest['symbol']} at {pct(fastest['momentum_12_1'])}.",
        )
    if len(rows) > 1:
        worst = rows[-1]
        story.about(
            worst,
            "score",
            f"{worst['symbol']} ranks last with score {num(worst['score'], 2)} and 12-1 "
            f"momentum {pct(worst['momentum_12_1'])}.",
        )
    moms = column_values(rows, "momentum_12_1")
    if moms:
        story.say(
            f"Median 12-1 momentum across the {len(moms)} assets: {pct(float(np.median(moms)))}.",
            field="momentum_12_1",
        )
    return story
