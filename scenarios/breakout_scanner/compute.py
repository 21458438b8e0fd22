"""``breakout_scanner``: 52-week highs and Donchian breakouts with volume confirmation.

Input: the long price frame; reads ``high``, ``low``, ``close``, ``volume`` as ``(T, N)``.
Output: one row per asset, rank 1 = strongest breakout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioResult
from scenarios.breakout_scanner import Params
from scenarios.crosssection import mean_available, zscore
from scenarios.mapreduce import gather, map_assets, metrics_of
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel
from scenarios.partial import ShardPartial
from scenarios.table import assemble, bar_series, ranked_rows

#: per-asset values a shard hands to the reduce
ASSET_METRICS = (
    "close",
    "high_52w",
    "days_since_high",
    "channel_high",
    "channel_low",
    "volume_ratio",
    "position",
)

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="close", label="Close"),
    Column(name="high_52w", label="52-week high"),
    Column(name="pct_from_high", label="From 52w high", kind="percent"),
    Column(name="at_high", label="At 52w high", kind="text"),
    Column(name="days_since_high", label="Sessions since high", kind="integer"),
    Column(name="channel_high", label="Donchian high"),
    Column(name="channel_low", label="Donchian low"),
    Column(name="breakout", label="Breakout", kind="text"),
    Column(name="volume_ratio", label="Volume ratio"),
    Column(name="confirmed", label="Volume confirmed", kind="text"),
    Column(name="score", label="Score"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's 52-week high, Donchian channel, volume ratio and channel position."""
    return map_assets(
        data,
        params,
        lambda panel: (_asset_metrics(panel, params), {}),
        ASSET_METRICS,
        fields=("high", "low", "close", "volume"),
        min_sessions={
            "high_window": params.high_window,
            "donchian_window": params.donchian_window + 1,
            "volume_window": params.volume_window + 1,
        },
    )


def _asset_metrics(panel: Panel, params: Params) -> pd.DataFrame:
    high, low, close, volume = (panel[f] for f in ("high", "low", "close", "volume"))
    last = close[-1]
    window_high = high[-params.high_window :]
    channel_high = high[-1 - params.donchian_window : -1].max(axis=0)
    channel_low = low[-1 - params.donchian_window : -1].min(axis=0)
    avg_volume = volume[-1 - params.volume_window : -1].mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        volume_ratio = np.where(avg_volume > 0, volume[-1] / avg_volume, np.nan)
        position = (last - channel_low) / (channel_high - channel_low)
    columns = {
        "close": last,
        "high_52w": window_high.max(axis=0),
        # argmax on the reversed window: sessions since the most recent high
        "days_since_high": np.argmax(window_high[::-1], axis=0).astype(float),
        "channel_high": channel_high,
        "channel_low": channel_low,
        "volume_ratio": volume_ratio,
        "position": position,
    }
    return pd.DataFrame(columns, index=panel.symbols)


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Breakouts, the cross-sectional score, ranks, charts and narrative."""
    log, as_of, frame = gather(partials, params)
    metrics = metrics_of(frame)
    last, volume_ratio = metrics["close"], metrics["volume_ratio"]
    channel_high, channel_low = metrics["channel_high"], metrics["channel_low"]
    pct_from_high = last / metrics["high_52w"] - 1.0
    breakout = np.where(last > channel_high, "up", np.where(last < channel_low, "down", "none"))
    confirmed = (breakout != "none") & (volume_ratio >= params.volume_multiple)
    bonus = np.where(confirmed, np.where(breakout == "up", 1.0, -1.0), 0.0)
    score = mean_available(
        [zscore(pct_from_high), zscore(volume_ratio), zscore(metrics["position"])]
    )
    metrics.update(
        {
            "pct_from_high": pct_from_high,
            "at_high": np.where(pct_from_high >= -params.near_high_pct, "yes", "no"),
            "breakout": breakout,
            "confirmed": np.where(confirmed, "yes", "no"),
            "score": score + bonus,
        }
    )
    rows = ranked_rows(COLUMNS, metrics)
    top = rows[: params.top_n]
    labels = [str(r["symbol"]) for r in top]
    series = [
        bar_series(
            "Distance from the 52-week high (top names)",
            labels,
            {"pct_from_high": [_num(r["pct_from_high"]) for r in top]},
        ),
        bar_series(
            "Volume / average volume (top names)",
            labels,
            {"volume_ratio": [_num(r["volume_ratio"]) for r in top]},
        ),
    ]
    return assemble(
        "breakout_scanner",
        as_of,
        COLUMNS,
        rows,
        series=series,
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(frame)),
    )


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    ups = [r for r in rows if r["breakout"] == "up" and r["confirmed"] == "yes"]
    downs = [r for r in rows if r["breakout"] == "down" and r["confirmed"] == "yes"]
    at_high = sum(r["at_high"] == "yes" for r in rows)
    story.say(
        f"{len(ups)} confirmed upside breakouts and {len(downs)} confirmed breakdowns among "
        f"{len(rows)} assets (volume >= {num(params.volume_multiple)}x its "
        f"{params.volume_window}-session average); {at_high} trade at their 52-week high.",
        field="confirmed",
    )
    best = rows[0]
    story.about(
        best,
        "score",
        f"Top of the scan: {best['symbol']} ({best['breakout']} breakout, volume "
        f"{num(best['volume_ratio'])}x average, {pct(best['pct_from_high'])} from its 52-week "
        "high).",
    )
    for row in ups[:3]:
        if row is not best:
            story.about(
                row,
                "volume_ratio",
                f"{row['symbol']} closed above its {params.donchian_window}-session channel on "
                f"{num(row['volume_ratio'])}x average volume.",
            )
    if downs:
        worst = downs[-1]
        story.about(
            worst,
            "breakout",
            f"{worst['symbol']} broke below its channel low {num(worst['channel_low'], 2)} on "
            f"{num(worst['volume_ratio'])}x average volume.",
        )
    return story
