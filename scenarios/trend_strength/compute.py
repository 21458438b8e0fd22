"""``trend_strength``: ADX, moving-average slope/distance and 12-1 momentum on a price panel.

Input: the long price frame (``date, symbol, open, high, low, close, volume``); the scenario
reads ``high``, ``low`` and ``close`` as ``(T, N)`` arrays via :func:`scenarios.panel.load_panel`.
Output: one row per asset, ranked by the composite score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.base import Column, ScenarioData, ScenarioResult, Series
from scenarios.crosssection import mean_available, zscore
from scenarios.indicators import adx
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel, load_panel
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
    panel = load_panel(
        data,
        params,
        fields=("high", "low", "close"),
        min_sessions=params.needs(),
        window=params.sessions(),
    )
    close = panel["close"]
    adx_panel, plus_di, minus_di = adx(panel["high"], panel["low"], close, params.adx_period)
    metrics = _latest_metrics(panel, params, adx_panel[-1], plus_di[-1], minus_di[-1])
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "trend_strength",
        panel.as_of,
        COLUMNS,
        rows,
        series=_charts(panel, params, adx_panel, rows),
        story=_narrative(rows, params),
        quality=panel.log.freeze(assets_used=len(panel.symbols)),
    )


def _latest_metrics(
    panel: Panel,
    params: Params,
    adx_now: np.ndarray,
    plus_now: np.ndarray,
    minus_now: np.ndarray,
) -> dict[str, np.ndarray]:
    close = panel["close"]
    last = close[-1]
    ma_now = close[-params.ma_window :].mean(axis=0)
    end_before = close.shape[0] - params.slope_window
    ma_before = close[end_before - params.ma_window : end_before].mean(axis=0)
    momentum = close[-1 - params.momentum_skip] / close[-1 - params.momentum_lookback] - 1.0
    signed_adx = adx_now * np.sign(plus_now - minus_now)
    ma_slope = ma_now / ma_before - 1.0
    ma_distance = last / ma_now - 1.0
    score = mean_available(
        [zscore(momentum), zscore(ma_slope), zscore(ma_distance), zscore(signed_adx)]
    )
    return {
        "symbol": panel.symbols.to_numpy(),
        "close": last,
        "adx": adx_now,
        "plus_di": plus_now,
        "minus_di": minus_now,
        "direction": np.where(plus_now >= minus_now, "up", "down"),
        "trending": np.where(adx_now >= params.adx_threshold, "yes", "no"),
        "ma_slope": ma_slope,
        "ma_distance": ma_distance,
        "momentum_12_1": momentum,
        "score": score,
    }


def _charts(
    panel: Panel,
    params: Params,
    adx_panel: np.ndarray,
    rows: list[dict[str, Any]],
) -> list[Series]:
    index = {str(s): i for i, s in enumerate(panel.symbols)}
    names = [str(r["symbol"]) for r in rows[: min(params.top_n, CHART_LINES)]]
    leaders = [index[name] for name in names]
    top = rows[: params.top_n]
    window = slice(max(0, panel.n_dates - CHART_SESSIONS), panel.n_dates)
    close = panel["close"][:, leaders]
    ma = np.full_like(close, np.nan)
    for t in range(window.start, window.stop):
        if t + 1 >= params.ma_window:
            ma[t] = close[t + 1 - params.ma_window : t + 1].mean(axis=0)
    return [
        bar_series(
            "Composite trend score (leaders)",
            [str(r["symbol"]) for r in top],
            {"score": [float(r["score"]) if r["score"] is not None else np.nan for r in top]},
        ),
        line_series(
            "ADX of the leaders",
            panel.dates[window],
            {name: adx_panel[window, i] for name, i in zip(names, leaders, strict=True)},
        ),
        line_series(
            f"Distance from the {params.ma_window}-session moving average",
            panel.dates[window],
            {name: close[window, k] / ma[window, k] - 1.0 for k, name in enumerate(names)},
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
