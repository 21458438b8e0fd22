"""``volatility_regime``: realised and EWMA volatility, percentile regimes, vol-of-vol.

Input: the long price frame; reads ``close`` as a ``(T, N)`` array. Output: one row per asset,
rank 1 = most stressed relative to its own history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioResult, Series
from scenarios.indicators import (
    TRADING_DAYS,
    ewma,
    log_returns,
    percentile_of_last,
    rolling_std,
)
from scenarios.mapreduce import gather, map_assets, metrics_of, stack_wide
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel
from scenarios.partial import ShardPartial
from scenarios.table import assemble, extreme, line_series, ranked_rows
from scenarios.volatility_regime import Params

CHART_LINES = 5
#: sessions back for the "is vol rising" comparison (one month)
CHANGE_SESSIONS = 21
#: per-asset values a shard hands to the reduce
ASSET_METRICS = ("realized_vol", "ewma_vol", "vol_percentile", "vol_of_vol", "vol_change")

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="realized_vol", label="Realised vol", kind="percent", description="Annualised"),
    Column(name="ewma_vol", label="EWMA vol", kind="percent", description="Annualised"),
    Column(name="vol_percentile", label="Vol percentile", description="vs own history"),
    Column(name="regime", label="Regime", kind="text"),
    Column(name="vol_of_vol", label="Vol of vol", description="std / mean of daily vol"),
    Column(name="vol_change", label="1M vol change", kind="percent"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's volatilities and regime statistics (and its realised-vol chart window)."""
    need = params.regime_lookback + params.vol_window

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        returns = log_returns(panel["close"])
        realized = rolling_std(returns[-need:], params.vol_window) * np.sqrt(TRADING_DAYS)
        ewma_var = ewma(returns**2, params.ewma_lambda, params.vol_window)
        frame = _asset_metrics(panel, params, realized, np.sqrt(ewma_var[-1] * TRADING_DAYS))
        dates = panel.dates[-len(realized) :][params.vol_window :]
        chart = pd.DataFrame(realized[params.vol_window :], index=dates, columns=panel.symbols)
        return frame, {"realized": chart}

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
    """Regimes, ranks, the cross-sectional median chart and the narrative."""
    log, as_of, frame = gather(partials, params)
    metrics = metrics_of(frame)
    percentile, now = metrics["vol_percentile"], metrics["realized_vol"]
    metrics["regime"] = np.where(
        percentile >= params.high_percentile,
        "stressed",
        np.where(percentile <= params.low_percentile, "calm", "normal"),
    )
    # rank on percentile, realised vol breaking ties
    metrics["score"] = np.round(percentile, 9) * 1e3 + np.round(now, 9)
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "volatility_regime",
        as_of,
        COLUMNS,
        rows,
        series=_charts(stack_wide(partials, "realized"), params, rows),
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(frame)),
    )


def _asset_metrics(
    panel: Panel, params: Params, realized: np.ndarray, ewma_now: np.ndarray
) -> pd.DataFrame:
    now = realized[-1]
    recent = realized[-params.vov_window :]
    with np.errstate(invalid="ignore", divide="ignore"):
        vol_of_vol = recent.std(axis=0, ddof=1) / recent.mean(axis=0)
        change = now / realized[-1 - CHANGE_SESSIONS] - 1.0
    columns = {
        "realized_vol": now,
        "ewma_vol": ewma_now,
        "vol_percentile": percentile_of_last(realized[-params.regime_lookback :]),
        "vol_of_vol": vol_of_vol,
        "vol_change": change,
    }
    return pd.DataFrame(columns, index=panel.symbols)


def _charts(realized: pd.DataFrame, params: Params, rows: list[dict[str, Any]]) -> list[Series]:
    values = realized.to_numpy()
    finite = np.isfinite(values).any(axis=1)
    median = np.full(len(values), np.nan)
    median[finite] = np.nanmedian(values[finite], axis=1)
    leaders = [str(r["symbol"]) for r in rows[: min(params.top_n, CHART_LINES)]]
    dates = pd.DatetimeIndex(realized.index)
    return [
        line_series("Median realised volatility", dates, {"median": median}),
        line_series(
            "Realised volatility of the most stressed",
            dates,
            {s: realized[s].to_numpy() for s in leaders},
        ),
    ]


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    counts = {name: sum(r["regime"] == name for r in rows) for name in ("calm", "normal")}
    stressed = len(rows) - counts["calm"] - counts["normal"]
    percentiles = [r["vol_percentile"] for r in rows if r["vol_percentile"] is not None]
    median = float(np.median(percentiles)) if percentiles else float("nan")
    overall = (
        "stressed"
        if median >= params.high_percentile
        else "calm"
        if median <= params.low_percentile
        else "normal"
    )
    story.say(
        f"Volatility regime is {overall}: the median asset sits at the {num(median, 0)}th "
        f"percentile of its {params.regime_lookback}-session history; {stressed} stressed, "
        f"{counts['normal']} normal, {counts['calm']} calm.",
        field="vol_percentile",
    )
    top = rows[0]
    story.about(
        top,
        "vol_percentile",
        f"Most stressed: {top['symbol']} with realised vol {pct(top['realized_vol'], signed=False)}"
        f" ({num(top['vol_percentile'], 0)}th percentile), EWMA "
        f"{pct(top['ewma_vol'], signed=False)}.",
    )
    loudest = extreme(rows, "realized_vol")
    quietest = extreme(rows, "realized_vol", largest=False)
    if loudest is not None and quietest is not None and len(rows) > 1:
        story.about(
            loudest,
            "realized_vol",
            f"Highest realised vol: {loudest['symbol']} at "
            f"{pct(loudest['realized_vol'], signed=False)}.",
        )
        story.about(
            quietest,
            "realized_vol",
            f"Lowest realised vol: {quietest['symbol']} at "
            f"{pct(quietest['realized_vol'], signed=False)}.",
        )
    jumpy = extreme(rows, "vol_change")
    if jumpy is not None:
        story.about(
            jumpy,
            "vol_change",
            f"Volatility rose most for {jumpy['symbol']}: {pct(jumpy['vol_change'])} over a month.",
        )
    return story
