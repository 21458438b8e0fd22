"""``sector_rotation``: equal-weight sector indices, relative strength, leaders.

Input: the long price frame and the sector classification. Output: one row per sector (row
key ``sector``), rank 1 = strongest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.crosssection import equal_weight, mean_available, zscore
from scenarios.mapreduce import gather, map_closes, stack_array
from scenarios.narrative import Narrative, pct
from scenarios.panel import sector_map
from scenarios.partial import ShardPartial
from scenarios.pointintime import require
from scenarios.sector_rotation import Params
from scenarios.table import assemble, line_series, ranked_rows

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="sector", label="Sector", kind="text"),
    Column(name="members", label="Members", kind="integer"),
    Column(name="return_short", label="Return (short)", kind="percent"),
    Column(name="return_medium", label="Return (medium)", kind="percent"),
    Column(name="return_long", label="Return (long)", kind="percent"),
    Column(name="relative_strength", label="RS (medium)", kind="percent"),
    Column(name="score", label="Score"),
    Column(name="leader", label="Leader", kind="text"),
    Column(name="leader_return", label="Leader return (medium)", kind="percent"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's closes over the long window (sector indices need every member's)."""
    require(data, "sectors")
    sessions = params.long_window + 1
    return map_closes(data, params, sessions, {"long_window": sessions})


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Sector indices, relative strength, leaders, ranks and narrative over all the assets."""
    sectors = sector_map(require(context, "sectors"))
    log, as_of, _ = gather(partials, params)
    dates, symbol_index, close = stack_array(partials, "close")
    returns = close[1:] / close[:-1] - 1.0
    symbols = symbol_index.tolist()
    groups: dict[str, list[int]] = {}
    for j, symbol in enumerate(symbols):
        if symbol not in sectors:
            log.drop(symbol, "no sector classification")
            continue
        groups.setdefault(sectors[symbol], []).append(j)
    for name in sorted(groups):
        if len(groups[name]) < params.min_members:
            log.note(f"sector {name} skipped: {len(groups[name])} member(s) < {params.min_members}")
            del groups[name]
    names = sorted(groups)
    if not names:
        raise ScenarioInputError(
            f"no sector has {params.min_members} or more selected assets", field="min_members"
        )
    index_returns = np.column_stack([equal_weight(returns[:, groups[n]]) for n in names])
    market = equal_weight(returns[:, [j for n in names for j in groups[n]]])
    windows = (params.short_window, params.medium_window, params.long_window)
    sector_ret = [_window_return(index_returns, w) for w in windows]
    market_ret = [_window_return(market[:, None], w)[0] for w in windows]
    strength = [s - m for s, m in zip(sector_ret, market_ret, strict=True)]
    member_ret = _window_return(returns, params.medium_window)
    leaders = [min(groups[n], key=lambda j: (-member_ret[j], symbols[j])) for n in names]
    metrics: dict[str, Any] = {
        "sector": names,
        "symbol": names,
        "members": [len(groups[n]) for n in names],
        "return_short": sector_ret[0],
        "return_medium": sector_ret[1],
        "return_long": sector_ret[2],
        "relative_strength": strength[1],
        "score": mean_available([zscore(s, limit=0.0) for s in strength]),
        "leader": [symbols[j] for j in leaders],
        "leader_return": member_ret[leaders],
    }
    rows = ranked_rows(COLUMNS, metrics)
    cumulative = np.cumprod(1 + index_returns, axis=0) - 1.0
    series = [
        line_series(
            "Cumulative return of sector indices",
            dates[1:],
            {n: cumulative[:, k] for k, n in enumerate(names)},
        )
    ]
    used = sum(len(g) for g in groups.values())
    return assemble(
        "sector_rotation",
        as_of,
        COLUMNS,
        rows,
        series=series,
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=used),
    )


def _window_return(returns: np.ndarray, window: int) -> np.ndarray:
    return np.prod(1.0 + returns[-window:], axis=0) - 1.0  # type: ignore[no-any-return]


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    best, worst = rows[0], rows[-1]
    story.about(
        best,
        "relative_strength",
        f"{best['sector']} leads: {pct(best['return_medium'])} over {params.medium_window} "
        f"sessions, {pct(best['relative_strength'])} versus the selection.",
        key="sector",
    )
    story.about(
        best,
        "leader",
        f"Its strongest member is {best['leader']} at {pct(best['leader_return'])}.",
        key="sector",
    )
    if len(rows) > 1:
        story.about(
            worst,
            "relative_strength",
            f"{worst['sector']} lags: {pct(worst['return_medium'])}, "
            f"{pct(worst['relative_strength'])} versus the selection.",
            key="sector",
        )
    improving = [r for r in rows if (r["return_short"] or 0) > 0 > (r["return_long"] or 0)]
    if improving:
        turn = improving[0]
        story.about(
            turn,
            "return_short",
            f"{turn['sector']} is turning up: {pct(turn['return_short'])} over "
            f"{params.short_window} sessions after {pct(turn['return_long'])} over "
            f"{params.long_window}.",
            key="sector",
        )
    return story
