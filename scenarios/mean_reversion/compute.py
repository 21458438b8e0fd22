"""``mean_reversion``: RSI(14), RSI(2), short-term reversal and Bollinger %b.

Input: the long price frame; reads ``close`` as a ``(T, N)`` array. Output: one row per asset,
rank 1 = most oversold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioResult, Series
from scenarios.crosssection import mean_available, zscore
from scenarios.indicators import bollinger_percent_b, rsi
from scenarios.mapreduce import chart_window, gather, map_assets, metrics_of, stack_wide
from scenarios.mean_reversion import Params
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel
from scenarios.partial import ShardPartial
from scenarios.table import assemble, bar_series, extreme, line_series, ranked_rows

CHART_SESSIONS = 126
CHART_LINES = 5
#: RSI(2) extremes that, with price outside the bands, mark a signal (Connors)
SHORT_RSI_LOW, SHORT_RSI_HIGH = 10.0, 90.0
#: per-asset values a shard hands to the reduce
ASSET_METRICS = ("close", "rsi", "rsi_2", "reversal", "percent_b")

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="close", label="Close"),
    Column(name="rsi", label="RSI(14)", description="Wilder RSI over rsi_period"),
    Column(name="rsi_2", label="RSI(2)", description="Wilder RSI over rsi_short_period"),
    Column(name="reversal", label="Short-term return", kind="percent"),
    Column(name="percent_b", label="Bollinger %b"),
    Column(name="signal", label="Signal", kind="text"),
    Column(name="score", label="Oversold score", description="Mean of winsorised z-scores"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's RSIs, reversal and %b (and its RSI chart window)."""

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        close = panel["close"]
        rsi_long = rsi(close, params.rsi_period)
        rsi_short = rsi(close, params.rsi_short_period)
        columns = {
            "close": close[-1],
            "rsi": rsi_long[-1],
            "rsi_2": rsi_short[-1],
            "reversal": close[-1] / close[-1 - params.reversal_days] - 1.0,
            "percent_b": bollinger_percent_b(
                close, params.bollinger_window, params.bollinger_width
            ),
        }
        frame = pd.DataFrame(columns, index=panel.symbols)
        return frame, {"rsi": chart_window(panel, rsi_long, CHART_SESSIONS)}

    return map_assets(
        data,
        params,
        compute,
        ASSET_METRICS,
        fields=("close",),
        min_sessions=params.needs(),
        window=params.sessions(),
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Signals, the cross-sectional oversold score, ranks, charts and narrative."""
    log, as_of, frame = gather(partials, params)
    metrics = metrics_of(frame)
    rsi_now, rsi2_now = metrics["rsi"], metrics["rsi_2"]
    reversal, percent_b = metrics["reversal"], metrics["percent_b"]
    oversold = (rsi_now <= params.oversold) | ((rsi2_now <= SHORT_RSI_LOW) & (percent_b < 0))
    overbought = (rsi_now >= params.overbought) | ((rsi2_now >= SHORT_RSI_HIGH) & (percent_b > 1))
    metrics["signal"] = np.where(
        oversold, "oversold", np.where(overbought, "overbought", "neutral")
    )
    metrics["score"] = mean_available(
        [zscore(-rsi_now), zscore(-rsi2_now), zscore(-reversal), zscore(-percent_b)]
    )
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "mean_reversion",
        as_of,
        COLUMNS,
        rows,
        series=_charts(stack_wide(partials, "rsi"), params, rows),
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(frame)),
    )


def _charts(rsi_window: pd.DataFrame, params: Params, rows: list[dict[str, Any]]) -> list[Series]:
    leaders = [str(r["symbol"]) for r in rows[: min(params.top_n, CHART_LINES)]]
    top = rows[: params.top_n]
    return [
        line_series(
            f"RSI({params.rsi_period}) of the most oversold",
            pd.DatetimeIndex(rsi_window.index),
            {s: rsi_window[s].to_numpy() for s in leaders},
        ),
        bar_series(
            "Bollinger %b of the most oversold",
            [str(r["symbol"]) for r in top],
            {"percent_b": [np.nan if r["percent_b"] is None else r["percent_b"] for r in top]},
        ),
    ]


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    oversold = sum(r["signal"] == "oversold" for r in rows)
    overbought = sum(r["signal"] == "overbought" for r in rows)
    story.say(
        f"{oversold} of {len(rows)} assets screen oversold and {overbought} overbought "
        f"(RSI({params.rsi_period}) thresholds {num(params.oversold, 0)}/"
        f"{num(params.overbought, 0)}).",
        field="signal",
    )
    best = rows[0]
    story.about(
        best,
        "score",
        f"Most oversold: {best['symbol']} with RSI({params.rsi_period}) {num(best['rsi'])}, "
        f"RSI({params.rsi_short_period}) {num(best['rsi_2'])}, {pct(best['reversal'])} over "
        f"{params.reversal_days} sessions and %b {num(best['percent_b'], 2)}.",
    )
    lowest = extreme(rows, "rsi", largest=False)
    if lowest is not None and lowest["symbol"] != best["symbol"]:
        story.about(lowest, "rsi", f"Lowest RSI: {lowest['symbol']} at {num(lowest['rsi'])}.")
    highest = extreme(rows, "rsi")
    if highest is not None and len(rows) > 1:
        story.about(
            highest,
            "rsi",
            f"Most overbought by RSI: {highest['symbol']} at {num(highest['rsi'])}.",
        )
    below = extreme(rows, "percent_b", largest=False)
    if below is not None and below["percent_b"] < 0:
        story.about(
            below,
            "percent_b",
            f"{below['symbol']} trades below its lower Bollinger band (%b "
            f"{num(below['percent_b'], 2)}).",
        )
    return story
