"""``macro_sensitivity``: multivariate OLS betas of asset returns to macro factor changes.

Input: prices (``close``) and macro series (long ``date, series, value, release_date``), each
value used only from its ``release_date`` on. Output: one row per asset, rank 1 = highest
R-squared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult, Series
from scenarios.macro_sensitivity import Params
from scenarios.mapreduce import gather, map_closes, stack_array
from scenarios.narrative import Narrative, num
from scenarios.partial import ShardPartial
from scenarios.pointintime import macro_panel, require
from scenarios.table import assemble, bar_series, line_series, ranked_rows

FACTORS = ("rates", "inflation", "usd", "oil")
LOG_CHANGE = {"usd", "oil"}

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    *[Column(name=f"beta_{f}", label=f"Beta {f}") for f in FACTORS],
    *[Column(name=f"t_{f}", label=f"t {f}") for f in FACTORS],
    Column(name="r_squared", label="R-squared"),
    Column(name="dominant", label="Dominant factor", kind="text"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's closes over the sessions the fits reach (the OLS runs in the reduce, on
    every asset at once, so its floating-point sums are the single worker's)."""
    require(data, "macro")
    reach = params.window + (params.chart_points - 1) * params.step + 1
    return map_closes(data, params, reach, {"window": params.window + 1})


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Macro changes, the OLS of every asset, ranks, rolling betas and narrative."""
    macro = require(context, "macro")
    log, as_of, _ = gather(partials, params)
    dates, symbols, close = stack_array(partials, "close")
    levels = macro_panel(macro, dates, log)
    sources = {"rates": params.rate_series, "inflation": "inflation", "usd": "usd", "oil": "oil"}
    missing = [s for s in sources.values() if s not in levels.columns]
    if missing:
        raise ScenarioInputError(f"macro data lacks series {', '.join(missing)}", field="macro")
    changes = np.column_stack([_change(levels[sources[f]].to_numpy(), f) for f in FACTORS])
    returns = np.log(close[1:] / close[:-1])
    changes = changes[1:]
    usable = np.isfinite(changes).all(axis=1)
    if usable[-params.window :].sum() < params.window:
        raise ScenarioInputError(
            f"macro series do not cover the last {params.window} sessions", field="window"
        )
    fit = _ols(changes[-params.window :], returns[-params.window :])
    for k, factor in enumerate(FACTORS):
        if np.ptp(changes[-params.window :, k]) == 0:
            log.note(
                f"{sources[factor]} does not move over the last {params.window} sessions: "
                f"the {factor} beta is not estimated"
            )
    rows = ranked_rows(COLUMNS, _metrics(symbols.tolist(), fit))
    return assemble(
        "macro_sensitivity",
        as_of,
        COLUMNS,
        rows,
        series=_charts(
            dates,
            symbols.tolist(),
            changes=changes,
            returns=returns,
            rows=rows,
            params=params,
        ),
        story=_narrative(rows),
        quality=log.freeze(assets_used=len(symbols)),
    )


def _change(level: np.ndarray, factor: str) -> np.ndarray:
    out = np.full(len(level), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[1:] = np.log(level[1:] / level[:-1]) if factor in LOG_CHANGE else np.diff(level)
    return out


def _ols(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """OLS of every column of ``y`` (n, N) on ``x`` (n, k) plus a constant, NaN-safe per asset.

    A factor that does not move over the window (e.g. a policy rate pinned at zero) cannot be
    estimated: it is left out of the design and its beta and t are NaN (keeping it would give
    a spurious t from the pseudo-inverse of a singular X'X).
    """
    n, k = x.shape
    moving = np.concatenate([[True], np.ptp(x, axis=0) > 0])
    design = np.column_stack([np.ones(n), x])[:, moving]
    finite = np.isfinite(y).all(axis=0)
    coef = np.full((k + 1, y.shape[1]), np.nan)
    tstat = np.full((k + 1, y.shape[1]), np.nan)
    r_squared = np.full(y.shape[1], np.nan)
    if finite.any():
        yy = y[:, finite]
        solution, *_ = np.linalg.lstsq(design, yy, rcond=None)
        resid = yy - design @ solution
        rss = (resid**2).sum(axis=0)
        tss = ((yy - yy.mean(axis=0)) ** 2).sum(axis=0)
        dof = max(n - design.shape[1], 1)
        xtx_inv = np.linalg.pinv(design.T @ design)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(np.outer(np.diag(xtx_inv), rss / dof))
            coef[np.ix_(moving, finite)] = solution
            tstat[np.ix_(moving, finite)] = solution / se
            r_squared[finite] = np.where(tss > 0, 1.0 - rss / tss, np.nan)
    return {"coef": coef[1:], "t": tstat[1:], "r_squared": r_squared}


def _metrics(symbols: list[str], fit: dict[str, np.ndarray]) -> dict[str, Any]:
    abs_t = np.nan_to_num(np.abs(fit["t"]), nan=-1.0)
    metrics: dict[str, Any] = {"symbol": np.asarray(symbols, dtype=object)}
    for i, factor in enumerate(FACTORS):
        metrics[f"beta_{factor}"] = fit["coef"][i]
        metrics[f"t_{factor}"] = fit["t"][i]
    metrics["r_squared"] = fit["r_squared"]
    metrics["score"] = fit["r_squared"]
    metrics["dominant"] = [FACTORS[int(i)] for i in abs_t.argmax(axis=0)]
    return metrics


def _charts(
    dates: Any,
    symbols: list[str],
    *,
    changes: np.ndarray,
    returns: np.ndarray,
    rows: list[dict[str, Any]],
    params: Params,
) -> list[Series]:
    top = [str(r["symbol"]) for r in rows[: params.top_n]]
    index = [symbols.index(s) for s in top]
    ends = [len(returns) - k * params.step for k in range(params.chart_points)][::-1]
    ends = [
        e
        for e in ends
        if e - params.window >= 0 and np.isfinite(changes[e - params.window : e]).all()
    ]
    betas: dict[str, list[float]] = {s: [] for s in top}
    for end in ends:
        fit = _ols(changes[end - params.window : end], returns[end - params.window : end][:, index])
        for k, s in enumerate(top):
            betas[s].append(float(fit["coef"][0, k]))
    averages = {f"beta_{f}": [_mean([r[f"beta_{f}"] for r in rows])] for f in FACTORS}
    return [
        line_series(
            f"Rolling {params.rate_series} beta of the most sensitive names",
            dates[1:][[e - 1 for e in ends]],
            {s: np.asarray(v) for s, v in betas.items()},
        ),
        bar_series("Average beta across assets", ["all assets"], averages),
    ]


def _mean(values: list[Any]) -> float:
    """Mean of the non-empty cells (NaN when there are none)."""
    present = [float(v) for v in values if v is not None]
    return float(np.mean(present)) if present else float("nan")


def _narrative(rows: list[dict[str, Any]]) -> Narrative:
    story = Narrative()
    best = rows[0]
    story.about(
        best,
        "r_squared",
        f"{best['symbol']} is the most macro-driven: the four factors explain "
        f"{num((best['r_squared'] or 0) * 100, 1)}% of its daily variance, mostly "
        f"{best['dominant']}.",
    )
    for factor in FACTORS:
        field = f"t_{factor}"
        candidates = [r for r in rows if r[field] is not None]
        if not candidates:
            continue
        top = max(candidates, key=lambda r: (abs(r[field]), [-ord(c) for c in r["symbol"]]))
        story.about(
            top,
            f"beta_{factor}",
            f"Most exposed to {factor}: {top['symbol']} (beta {num(top[f'beta_{factor}'], 3)}, "
            f"t {num(top[field], 1)}).",
        )
    return story
