"""``sentiment_blend``: decayed sentiment z-scores blended with price momentum.

Input: prices (``close``) and daily sentiment (visible from its ``date``). Output: one row per
asset, rank 1 = highest blend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioResult
from scenarios.crosssection import zscore
from scenarios.mapreduce import gather, map_assets, metrics_of, stack_wide
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel
from scenarios.partial import ShardPartial
from scenarios.pointintime import require, sentiment_panel
from scenarios.sentiment_blend import Params
from scenarios.table import assemble, bar_series, extreme, line_series, ranked_rows

#: |z| both signals must exceed for a divergence flag
DIVERGENCE_Z = 0.5

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="sentiment", label="Decayed sentiment", description="-1 to 1"),
    Column(name="mentions", label="Mentions", kind="integer"),
    Column(name="sentiment_z", label="Sentiment z"),
    Column(name="momentum", label="Momentum", kind="percent"),
    Column(name="momentum_z", label="Momentum z"),
    Column(name="blend", label="Blend"),
    Column(name="divergence", label="Divergence", kind="text"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's decayed sentiment, mentions and momentum (and its daily sentiment)."""
    sentiment = require(data, "sentiment")

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        symbols = panel.symbols.tolist()
        dates = panel.dates[-params.sentiment_window :]
        weighted, mentions = sentiment_panel(sentiment, dates, symbols, panel.log)
        age = np.arange(len(dates))[::-1].astype(float)
        decay = 0.5 ** (age / params.half_life)
        total_mentions = mentions.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            decayed = (weighted * decay[:, None]).sum(axis=0) / (mentions * decay[:, None]).sum(
                axis=0
            )
            daily = np.where(mentions > 0, weighted / mentions, np.nan)
        decayed[total_mentions < max(params.min_mentions, 1e-9)] = np.nan
        close = panel["close"]
        columns = {
            "sentiment": decayed,
            "mentions": total_mentions,
            "momentum": close[-1] / close[-1 - params.momentum_window] - 1.0,
        }
        chart = pd.DataFrame(daily, index=dates, columns=panel.symbols)
        return pd.DataFrame(columns, index=panel.symbols), {"daily": chart}

    return map_assets(
        data,
        params,
        compute,
        ("sentiment", "mentions", "momentum"),
        fields=("close",),
        min_sessions={
            "momentum_window": params.momentum_window + 1,
            "sentiment_window": params.sentiment_window,
        },
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Cross-sectional z-scores, the blend, divergences, ranks and narrative."""
    log, as_of, frame = gather(partials, params)
    metrics = metrics_of(frame)
    decayed, momentum = metrics["sentiment"], metrics["momentum"]
    sent_z, mom_z = zscore(decayed), zscore(momentum)
    w = params.sentiment_weight
    blend = np.where(np.isfinite(sent_z), w * sent_z + (1 - w) * mom_z, mom_z)
    divergent = (np.sign(sent_z) != np.sign(mom_z)) & (np.abs(sent_z) > DIVERGENCE_Z)
    divergent &= np.abs(mom_z) > DIVERGENCE_Z
    missing = int((~np.isfinite(decayed)).sum())
    if missing:
        log.note(
            f"{missing} assets had fewer than {num(params.min_mentions, 0)} mentions: "
            "blend uses momentum only"
        )
    metrics.update(
        {
            "sentiment_z": sent_z,
            "momentum_z": mom_z,
            "blend": blend,
            "score": blend,
            "divergence": np.where(divergent, "yes", "no"),
        }
    )
    rows = ranked_rows(COLUMNS, metrics)
    top = rows[: params.top_n]
    daily = stack_wide(partials, "daily")
    leaders = [str(r["symbol"]) for r in top[:5]]
    series = [
        bar_series(
            "Blended score of the leaders", leaders, {"blend": [r["blend"] for r in top[:5]]}
        ),
        line_series(
            "Daily sentiment of the leaders",
            pd.DatetimeIndex(daily.index),
            {s: daily[s].to_numpy() for s in leaders},
        ),
    ]
    return assemble(
        "sentiment_blend",
        as_of,
        COLUMNS,
        rows,
        series=series,
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(frame)),
    )


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    best = rows[0]
    story.about(
        best,
        "blend",
        f"Top blend: {best['symbol']} at {num(best['blend'], 2)} (sentiment "
        f"{num(best['sentiment'], 2)}, {params.momentum_window}-session momentum "
        f"{pct(best['momentum'])}).",
    )
    positive = extreme(rows, "sentiment")
    negative = extreme(rows, "sentiment", largest=False)
    if positive is not None:
        story.about(
            positive,
            "sentiment",
            f"Most positive sentiment: {positive['symbol']} at {num(positive['sentiment'], 2)} "
            f"over {positive['mentions']} mentions.",
        )
    if negative is not None and negative is not positive:
        story.about(
            negative,
            "sentiment",
            f"Most negative sentiment: {negative['symbol']} at {num(negative['sentiment'], 2)}.",
        )
    divergent = [r for r in rows if r["divergence"] == "yes"]
    story.say(
        f"{len(divergent)} assets show sentiment and price pointing in opposite directions"
        + (f", e.g. {divergent[0]['symbol']}." if divergent else "."),
        row=str(divergent[0]["symbol"]) if divergent else None,
        field="divergence",
    )
    return story
