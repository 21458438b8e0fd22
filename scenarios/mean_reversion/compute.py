"""``mean_reversion``: RSI(14), RSI(2), short-term reversal and Bollinger %b.

Input: the long price frame; reads ``close`` as a ``(T, N)`` array. Output: one row per asset,
rank 1 = most oversold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.base import Column, ScenarioData, ScenarioResult, Series
from scenarios.crosssection import mean_available, zscore
from scenarios.indicators import bollinger_percent_b, rsi
from scenarios.mean_reversion import Params
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel, load_panel
from scenarios.table import assemble, bar_series, extreme, line_series, ranked_rows

CHART_SESSIONS = 126
CHART_LINES = 5
#: RSI(2) extremes that, with price outside the bands, mark a signal (Connors)
SHORT_RSI_LOW, SHORT_RSI_HIGH = 10.0, 90.0

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
    panel = load_panel(
        data, params, fields=("close",), min_sessions=params.needs(), window=params.sessions()
    )
    close = panel["close"]
    rsi_long = rsi(close, params.rsi_period)
    rsi_short = rsi(close, params.rsi_short_period)
    metrics = _metrics(panel, params, rsi_long[-1], rsi_short[-1])
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "mean_reversion",
        panel.as_of,
        COLUMNS,
        rows,
        series=_charts(panel, params, rsi_long, rows),
        story=_narrative(rows, params),
        quality=panel.log.freeze(assets_used=len(panel.symbols)),
    )


def _metrics(
    panel: Panel, params: Params, rsi_now: np.ndarray, rsi2_now: np.ndarray
) -> dict[str, Any]:
    close = panel["close"]
    reversal = close[-1] / close[-1 - params.reversal_days] - 1.0
    percent_b = bollinger_percent_b(close, params.bollinger_window, params.bollinger_width)
    oversold = (rsi_now <= params.oversold) | ((rsi2_now <= SHORT_RSI_LOW) & (percent_b < 0))
    overbought = (rsi_now >= params.overbought) | ((rsi2_now >= SHORT_RSI_HIGH) & (percent_b > 1))
    signal = np.where(oversold, "oversold", np.where(overbought, "overbought", "neutral"))
    score = mean_available(
        [zscore(-rsi_now), zscore(-rsi2_now), zscore(-reversal), zscore(-percent_b)]
    )
    return {
        "symbol": panel.symbols.to_numpy(),
        "close": close[-1],
        "rsi": rsi_now,
        "rsi_2": rsi2_now,
        "reversal": reversal,
        "percent_b": percent_b,
        "signal": signal,
        "score": score,
    }


def _charts(
    panel: Panel, params: Params, rsi_long: np.ndarray, rows: list[dict[str, Any]]
) -> list[Series]:
    leaders = [str(r["symbol"]) for r in rows[: min(params.top_n, CHART_LINES)]]
    index = {s: i for i, s in enumerate(panel.symbols)}
    window = slice(max(0, panel.n_dates - CHART_SESSIONS), panel.n_dates)
    top = rows[: params.top_n]
    return [
        line_series(
            f"RSI({params.rsi_period}) of the most oversold",
            panel.dates[window],
            {s: rsi_long[window, index[s]] for s in leaders},
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
