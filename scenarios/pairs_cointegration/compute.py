"""``pairs_cointegration``: vectorised Engle-Granger screen over candidate pairs.

Input: prices (``close``, ``volume``), sectors (optional). Output: one row per pair (row key
``pair`` = ``"A/B"``), rank 1 = most significant cointegration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.narrative import Narrative, num
from scenarios.pairs_cointegration import Params
from scenarios.panel import load_panel, sector_map
from scenarios.table import assemble, line_series, ranked_rows

#: MacKinnon (2010) Engle-Granger critical values, 2 variables with constant
CRITICAL_VALUES = ((-3.90, "1%"), (-3.34, "5%"), (-3.04, "10%"))
CHART_PAIRS = 3

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="pair", label="Pair", kind="text", description="dependent / regressor"),
    Column(name="symbol_a", label="A", kind="text"),
    Column(name="symbol_b", label="B", kind="text"),
    Column(name="hedge_ratio", label="Hedge ratio", description="beta of log A on log B"),
    Column(name="adf_t", label="ADF t"),
    Column(name="significance", label="Significance", kind="text"),
    Column(name="half_life", label="Half-life (sessions)"),
    Column(name="correlation", label="Return correlation"),
    Column(name="spread_z", label="Spread z"),
    Column(name="signal", label="Signal", kind="text"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    panel = load_panel(
        data, params, fields=("close", "volume"), min_sessions={"window": params.window + 1}
    )
    symbols = panel.symbols.tolist()
    logp = np.log(panel["close"][-params.window :])
    dollar_volume = (panel["close"][-params.window :] * panel["volume"][-params.window :]).mean(0)
    keep = sorted(np.lexsort((np.asarray(symbols), -dollar_volume))[: params.max_assets].tolist())
    if len(keep) < len(symbols):
        panel.log.note(f"screened the {len(keep)} assets with the highest dollar volume")
    left, right = _candidates([symbols[j] for j in keep], data, params)
    if not left:
        raise ScenarioInputError("no candidate pairs (need two assets in one sector)", "tickers")
    ia = np.asarray([keep[i] for i in left])
    ib = np.asarray([keep[i] for i in right])
    forward = _engle_granger(logp[:, ia], logp[:, ib])
    backward = _engle_granger(logp[:, ib], logp[:, ia])
    swap = backward["adf_t"] < forward["adf_t"]
    best = {k: np.where(swap, backward[k], forward[k]) for k in forward if k != "spread"}
    spreads = np.where(swap[None, :], backward["spread"], forward["spread"])
    dep = np.where(swap, ib, ia)
    reg = np.where(swap, ia, ib)
    returns = np.diff(logp, axis=0)
    corr = _columnwise_corr(returns[:, ia], returns[:, ib])
    names = [f"{symbols[a]}/{symbols[b]}" for a, b in zip(dep, reg, strict=True)]
    metrics: dict[str, Any] = {
        "symbol": names,
        "pair": names,
        "symbol_a": [symbols[a] for a in dep],
        "symbol_b": [symbols[b] for b in reg],
        "hedge_ratio": best["beta"],
        "adf_t": best["adf_t"],
        "significance": [_significance(t) for t in best["adf_t"]],
        "half_life": best["half_life"],
        "correlation": corr,
        "spread_z": best["spread_z"],
        "signal": np.where(
            best["spread_z"] >= params.entry_z,
            "short spread",
            np.where(best["spread_z"] <= -params.entry_z, "long spread", "none"),
        ),
    }
    rows = ranked_rows(COLUMNS, metrics, score="adf_t", descending=False)[: params.max_pairs]
    panel.log.note(f"{len(names)} candidate pairs tested, {len(rows)} reported")
    position = {n: k for k, n in enumerate(names)}
    chart = {}
    for row in rows[:CHART_PAIRS]:
        e = spreads[:, position[row["pair"]]]
        chart[row["pair"]] = (e - e.mean()) / e.std()
    return assemble(
        "pairs_cointegration",
        panel.as_of,
        COLUMNS,
        rows,
        series=[
            line_series("Spread z-score of the best pairs", panel.dates[-params.window :], chart)
        ],
        story=_narrative(rows, params, len(names)),
        quality=panel.log.freeze(assets_used=len(keep)),
    )


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


def _engle_granger(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """Column-wise OLS ``y = c + beta x + e`` and Dickey-Fuller t on ``e`` (no lags)."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = (xc * yc).sum(axis=0) / (xc**2).sum(axis=0)
        spread = yc - beta * xc
        lagged, delta = spread[:-1], np.diff(spread, axis=0)
        ssx = (lagged**2).sum(axis=0)
        gamma = (lagged * delta).sum(axis=0) / ssx
        resid = delta - gamma * lagged
        sigma2 = (resid**2).sum(axis=0) / (len(delta) - 1)
        adf_t = gamma / np.sqrt(sigma2 / ssx)
        half_life = np.where(gamma < 0, -np.log(2) / np.log1p(gamma), np.nan)
        spread_z = (spread[-1] - spread.mean(axis=0)) / spread.std(axis=0)
    adf_t = np.where(np.isfinite(adf_t), adf_t, np.inf)
    return {
        "beta": beta,
        "adf_t": adf_t,
        "half_life": half_life,
        "spread_z": spread_z,
        "spread": spread,
    }


def _columnwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ac * bc).sum(axis=0) / np.sqrt((ac**2).sum(axis=0) * (bc**2).sum(axis=0))  # type: ignore[no-any-return]


def _significance(t: float) -> str:
    for critical, label in CRITICAL_VALUES:
        if t <= critical:
            return label
    return "none"


def _narrative(rows: list[dict[str, Any]], params: Params, tested: int) -> Narrative:
    story = Narrative()
    significant = [r for r in rows if r["significance"] in ("1%", "5%")]
    story.say(
        f"{len(significant)} of the {len(rows)} best pairs (out of {tested} tested) cointegrate "
        "at the 5% level or better (Engle-Granger).",
        field="significance",
    )
    best = rows[0]
    story.about(
        best,
        "adf_t",
        f"Strongest: {best['pair']} with ADF t {num(best['adf_t'], 2)}, hedge ratio "
        f"{num(best['hedge_ratio'], 3)} and half-life {num(best['half_life'], 1)} sessions.",
        key="pair",
    )
    stretched = [r for r in significant if r["signal"] != "none"]
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
