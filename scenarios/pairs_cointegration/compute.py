"""``pairs_cointegration``: vectorised Engle-Granger screen over candidate pairs.

Input: prices (``close``, ``volume``), sectors (optional). Output: one row per pair (row key
``pair`` = ``"A/B"``), rank 1 = most significant cointegration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.mapreduce import chart_window, gather, map_assets, stack_array
from scenarios.narrative import Narrative, num
from scenarios.pairs_cointegration import Params, mackinnon
from scenarios.panel import Panel, sector_map
from scenarios.partial import ShardPartial
from scenarios.table import assemble, line_series, ranked_rows

CHART_PAIRS = 3
#: statsmodels' test for a (near) perfect first-step fit
SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
#: the level the narrative and q-values are read at
FDR = 0.05

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="pair", label="Pair", kind="text", description="dependent / regressor"),
    Column(name="symbol_a", label="A", kind="text", description="dependent (more liquid) asset"),
    Column(name="symbol_b", label="B", kind="text", description="regressor"),
    Column(name="hedge_ratio", label="Hedge ratio", description="beta of log A on log B"),
    Column(name="adf_stat", label="ADF t", description="Engle-Granger ADF statistic"),
    Column(name="adf_lags", label="ADF lags", kind="integer"),
    Column(name="p_value", label="p-value", description="MacKinnon (1994)"),
    Column(name="q_value", label="q-value", description="Benjamini-Hochberg, all pairs tested"),
    Column(
        name="significance",
        label="Significance",
        kind="text",
        description="finite-sample MacKinnon (2010) critical value passed",
    ),
    Column(name="half_life", label="Half-life (sessions)"),
    Column(name="correlation", label="Return correlation"),
    Column(name="spread_z", label="Spread z"),
    Column(name="signal", label="Signal", kind="text"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """The slice's ``max_assets`` most liquid assets: dollar volume and log prices. The
    universe's most liquid are among the slices' most liquid, so the reduce screens exactly."""

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        close, volume = panel["close"][-params.window :], panel["volume"][-params.window :]
        dollar_volume = (close * volume).mean(0)
        top = _most_liquid(panel.symbols.to_numpy(), dollar_volume, params.max_assets)
        frame = pd.DataFrame({"dollar_volume": dollar_volume[top]}, index=panel.symbols[top])
        logp = chart_window(panel, np.log(panel["close"]), params.window).iloc[:, top]
        return frame, {"logp": logp}

    return map_assets(
        data,
        params,
        compute,
        ("dollar_volume",),
        fields=("close", "volume"),
        min_sessions={"window": params.window},
        window=params.window,
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Screen the most liquid assets, test every candidate pair, rank and narrate."""
    log, as_of, screened = gather(partials, params)
    dates, symbol_index, logp = stack_array(partials, "logp")
    symbols = symbol_index.tolist()
    dollar_volume = screened["dollar_volume"].to_numpy()
    keep = _most_liquid(np.asarray(symbols), dollar_volume, params.max_assets).tolist()
    if len(keep) < sum(int(p.meta["panel"]["kept"]) for p in partials):
        log.note(f"screened the {len(keep)} assets with the highest dollar volume")
    left, right = _candidates([symbols[j] for j in keep], context, params)
    if not left:
        raise ScenarioInputError("no candidate pairs (need two assets in one sector)", "tickers")
    # one ordering per pair, fixed before testing: the more liquid asset is the dependent
    ia = np.asarray([keep[i] for i in left])
    ib = np.asarray([keep[i] for i in right])
    first = _more_liquid_first(ia, ib, dollar_volume, symbols)
    dep = np.where(first, ia, ib)
    reg = np.where(first, ib, ia)
    test = engle_granger(logp[:, dep], logp[:, reg], params.adf_lags)
    p_value = mackinnon.p_values(test["adf_stat"])
    critical = mackinnon.critical_values(params.window - 1)
    returns = np.diff(logp, axis=0)
    corr = _columnwise_corr(returns[:, dep], returns[:, reg])
    names = [f"{symbols[a]}/{symbols[b]}" for a, b in zip(dep, reg, strict=True)]
    metrics: dict[str, Any] = {
        "symbol": names,
        "pair": names,
        "symbol_a": [symbols[a] for a in dep],
        "symbol_b": [symbols[b] for b in reg],
        "hedge_ratio": test["beta"],
        "adf_stat": test["adf_stat"],
        "adf_lags": np.full(len(names), params.adf_lags),
        "p_value": p_value,
        "q_value": mackinnon.benjamini_hochberg(p_value),
        "significance": [_significance(t, critical) for t in test["adf_stat"]],
        "half_life": test["half_life"],
        "correlation": corr,
        "spread_z": test["spread_z"],
        "signal": np.where(
            test["spread_z"] >= params.entry_z,
            "short spread",
            np.where(test["spread_z"] <= -params.entry_z, "long spread", "none"),
        ),
    }
    rows = ranked_rows(COLUMNS, metrics, score="adf_stat", descending=False)[: params.max_pairs]
    log.note(f"{len(names)} candidate pairs tested, {len(rows)} reported")
    position = {n: k for k, n in enumerate(names)}
    chart = {}
    for row in rows[:CHART_PAIRS]:
        e = test["spread"][:, position[row["pair"]]]
        chart[row["pair"]] = (e - e.mean()) / e.std()
    return assemble(
        "pairs_cointegration",
        as_of,
        COLUMNS,
        rows,
        series=[line_series("Spread z-score of the best pairs", dates, chart)],
        story=_narrative(rows, params, p_value, metrics["q_value"]),
        quality=log.freeze(assets_used=len(keep)),
    )


def _most_liquid(symbols: np.ndarray, dollar_volume: np.ndarray, count: int) -> np.ndarray:
    """Positions (ascending) of the ``count`` highest dollar volumes, ties by symbol."""
    return np.sort(np.lexsort((symbols.astype(str), -dollar_volume))[:count])


def _more_liquid_first(
    ia: np.ndarray, ib: np.ndarray, dollar_volume: np.ndarray, symbols: list[str]
) -> np.ndarray:
    """Per pair, whether ``ia`` is the dependent: higher mean dollar volume, ties by symbol."""
    va, vb = dollar_volume[ia], dollar_volume[ib]
    by_name = np.asarray([symbols[a] < symbols[b] for a, b in zip(ia, ib, strict=True)])
    return (va > vb) | ((va == vb) & by_name)  # type: ignore[no-any-return]


def _candidates(
    symbols: list[str], data: ScenarioData, params: Params
) -> tuple[list[int], list[int]]:
    sectors = sector_map(data.sectors) if data.sectors is not None else {}
    left, right = [], []
    for i in range(len(symbols)):
        for j in range(i + 1, len(symbols)):
            if params.same_sector and sectors:
                a, b = sectors.get(symbols[i]), sectors.get(symbols[j])
                if a is None or a != b:
                    continue
            left.append(i)
            right.append(j)
    return left, right


def engle_granger(y: np.ndarray, x: np.ndarray, lags: int) -> dict[str, np.ndarray]:
    """Column-wise Engle-Granger: OLS ``y = c + beta x + e``, then the ADF t on ``e``.

    ADF regression without constant (the residuals have mean zero), ``lags`` lagged
    differences: ``de[t] = gamma e[t-1] + sum_k phi_k de[t-k] + u`` over ``t = lags+1 ..
    T-1``; ``adf_stat = gamma / se(gamma)`` with ``se`` from ``SSR / (nobs - lags - 1)``
    (statsmodels' ``coint(y, x, trend="c", maxlag=lags, autolag=None)`` statistic). A perfect
    fit (no residual variance) gets ``-inf``, as statsmodels does.
    """
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = (xc * yc).sum(axis=0) / (xc**2).sum(axis=0)
        spread = yc - beta * xc
        delta = np.diff(spread, axis=0)
        nobs = len(delta) - lags
        # regressors per pair: e[t-1], de[t-1], ..., de[t-lags]  -> (pairs, nobs, lags + 1)
        columns = [spread[lags:-1]] + [delta[lags - k : len(delta) - k] for k in range(1, lags + 1)]
        design = np.stack(columns, axis=-1).transpose(1, 0, 2)
        target = delta[lags:].T[:, :, None]
        gram = design.transpose(0, 2, 1) @ design
        inverse = np.linalg.pinv(gram)
        coef = inverse @ (design.transpose(0, 2, 1) @ target)
        resid = target - design @ coef
        sigma2 = (resid[:, :, 0] ** 2).sum(axis=1) / (nobs - lags - 1)
        gamma = coef[:, 0, 0]
        adf_stat = gamma / np.sqrt(sigma2 * inverse[:, 0, 0])
        half_life = np.where(gamma < 0, -np.log(2) / np.log1p(gamma), np.nan)
        spread_z = (spread[-1] - spread.mean(axis=0)) / spread.std(axis=0)
        fitted = 1.0 - (spread**2).sum(axis=0) / (yc**2).sum(axis=0)
    adf_stat = np.where(fitted >= 1.0 - 100 * SQRT_EPS, -np.inf, adf_stat)
    adf_stat = np.where(np.isfinite(adf_stat) | (adf_stat == -np.inf), adf_stat, np.nan)
    return {
        "beta": beta,
        "adf_stat": adf_stat,
        "half_life": half_life,
        "spread_z": spread_z,
        "spread": spread,
    }


def _columnwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ac * bc).sum(axis=0) / np.sqrt((ac**2).sum(axis=0) * (bc**2).sum(axis=0))  # type: ignore[no-any-return]


def _significance(t: float, critical: dict[str, float]) -> str:
    for label, value in critical.items():
        if t <= value:
            return label
    return "none"


def _narrative(
    rows: list[dict[str, Any]], params: Params, p_value: np.ndarray, q_value: np.ndarray
) -> Narrative:
    story = Narrative()
    tested = len(p_value)
    story.say(
        f"{int((p_value <= FDR).sum())} of {tested} pairs tested have an Engle-Granger p-value "
        f"at or below 5%; {int((q_value <= FDR).sum())} survive the Benjamini-Hochberg "
        "false-discovery control at 5% (q-value).",
        field="q_value",
    )
    best = rows[0]
    story.about(
        best,
        "adf_stat",
        f"Strongest: {best['pair']} with ADF t {num(best['adf_stat'], 2)} (p "
        f"{num(best['p_value'], 4)}, q {num(best['q_value'], 4)}), hedge ratio "
        f"{num(best['hedge_ratio'], 3)} and half-life {num(best['half_life'], 1)} sessions.",
        key="pair",
    )
    discovered = [r for r in rows if r["q_value"] is not None and r["q_value"] <= FDR]
    stretched = [r for r in discovered if r["signal"] != "none"]
    if stretched:
        pick = stretched[0]
        story.about(
            pick,
            "spread_z",
            f"{pick['pair']} is stretched: spread z {num(pick['spread_z'], 2)} (signal: "
            f"{pick['signal']}, entry at +-{num(params.entry_z, 1)}).",
            key="pair",
        )
    return story
