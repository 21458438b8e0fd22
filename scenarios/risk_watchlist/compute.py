"""``risk_watchlist``: drawdown, beta, historical VaR / CVaR, flags.

Input: the long price frame; reads ``close`` as ``(T, N)``. Output: one row per asset, rank 1 =
riskiest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.crosssection import equal_weight, mean_available, zscore
from scenarios.indicators import TRADING_DAYS
from scenarios.mapreduce import gather, map_closes, stack_array
from scenarios.narrative import Narrative, num, pct
from scenarios.partial import ShardPartial
from scenarios.risk_watchlist import Params
from scenarios.table import assemble, bar_series, extreme, line_series, ranked_rows

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="current_drawdown", label="Drawdown", kind="percent"),
    Column(name="max_drawdown", label="Max drawdown", kind="percent"),
    Column(name="beta", label="Beta"),
    Column(name="volatility", label="Volatility", kind="percent", description="Annualised"),
    Column(name="var", label="VaR (1 day)", kind="percent"),
    Column(name="cvar", label="CVaR (1 day)", kind="percent"),
    Column(name="flags", label="Flags", kind="text"),
    Column(name="score", label="Risk score"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's closes over the window (the market return needs every asset's)."""
    return map_closes(data, params, params.window + 1, {"window": params.window + 1})


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Market, drawdowns, beta, VaR/CVaR, score, ranks and narrative over all the assets."""
    log, as_of, _ = gather(partials, params)
    dates, symbols, close = stack_array(partials, "close")
    returns = close[1:] / close[:-1] - 1.0
    market = _market(symbols.tolist(), returns, params)
    # the peak includes the close before the window's first return: a fall on that first
    # session is a drawdown too
    peak = np.fmax.accumulate(close, axis=0)[1:]
    drawdown = close[1:] / peak - 1.0
    alpha = 1.0 - params.confidence
    var = -np.quantile(returns, alpha, axis=0)
    tail = returns <= -var[None, :]
    cvar = -np.where(tail, returns, 0.0).sum(axis=0) / np.maximum(tail.sum(axis=0), 1)
    centred = returns - returns.mean(axis=0)
    m_centred = market - market.mean()
    beta = (centred * m_centred[:, None]).sum(axis=0) / (m_centred**2).sum()
    vol = returns.std(axis=0, ddof=1) * np.sqrt(TRADING_DAYS)
    current, worst = drawdown[-1], drawdown.min(axis=0)
    flags = [
        ";".join(
            name
            for name, hit in (
                ("drawdown", current[j] <= -params.drawdown_flag),
                ("var", var[j] >= params.var_flag),
                ("beta", beta[j] >= params.beta_flag),
            )
            if hit
        )
        for j in range(len(symbols))
    ]
    metrics: dict[str, Any] = {
        "symbol": symbols.to_numpy(),
        "current_drawdown": current,
        "max_drawdown": worst,
        "beta": beta,
        "volatility": vol,
        "var": var,
        "cvar": cvar,
        "flags": flags,
        "score": mean_available(
            [zscore(-current), zscore(-worst), zscore(beta), zscore(var), zscore(cvar), zscore(vol)]
        ),
    }
    rows = ranked_rows(COLUMNS, metrics)
    index = {s: i for i, s in enumerate(symbols)}
    top = [str(r["symbol"]) for r in rows[: params.top_n]]
    series = [
        line_series(
            "Drawdown of the riskiest names",
            dates[1:],
            {s: drawdown[:, index[s]] for s in top},
        ),
        bar_series(
            f"One-day VaR and CVaR at {num(params.confidence * 100, 0)}%",
            top,
            {"var": [var[index[s]] for s in top], "cvar": [cvar[index[s]] for s in top]},
        ),
    ]
    return assemble(
        "risk_watchlist",
        as_of,
        COLUMNS,
        rows,
        series=series,
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(symbols)),
    )


def _market(symbols: list[str], returns: np.ndarray, params: Params) -> np.ndarray:
    if params.benchmark is None:
        return equal_weight(returns)
    benchmark = params.benchmark.strip().upper()
    if benchmark not in symbols:
        raise ScenarioInputError(
            f"benchmark {benchmark} has no usable prices in the selection", field="benchmark"
        )
    return returns[:, symbols.index(benchmark)]  # type: ignore[no-any-return]


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    flagged = [r for r in rows if r["flags"]]
    story.say(
        f"{len(flagged)} of {len(rows)} assets are flagged (drawdown beyond "
        f"{pct(params.drawdown_flag, 0, signed=False)}, VaR above "
        f"{pct(params.var_flag, 1, signed=False)} or beta above {num(params.beta_flag, 1)}).",
        field="flags",
    )
    top = rows[0]
    story.about(
        top,
        "score",
        f"Riskiest: {top['symbol']} with drawdown {pct(top['current_drawdown'])}, beta "
        f"{num(top['beta'], 2)}, one-day VaR {pct(top['var'], signed=False)} and CVaR "
        f"{pct(top['cvar'], signed=False)}.",
    )
    deepest = extreme(rows, "max_drawdown", largest=False) or top
    story.about(
        deepest,
        "max_drawdown",
        f"Deepest drawdown over the window: {deepest['symbol']} at {pct(deepest['max_drawdown'])}.",
    )
    highest_beta = extreme(rows, "beta") or top
    story.about(
        highest_beta,
        "beta",
        f"Highest beta: {highest_beta['symbol']} at {num(highest_beta['beta'], 2)}.",
    )
    return story
