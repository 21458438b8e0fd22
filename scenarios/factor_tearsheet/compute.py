"""``factor_tearsheet``: alphalens-style evaluation of one factor, point-in-time.

Input: prices (``close``); fundamentals (point-in-time, from ``report_date``) for the value,
quality and size factors. Output: one row per horizon (row key ``horizon`` = ``"5d"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioInputError, ScenarioResult
from scenarios.crosssection import buckets
from scenarios.factor_tearsheet import Params
from scenarios.factors import (
    FUNDAMENTAL_FACTORS,
    FUNDAMENTAL_SUBSCORES,
    fundamental_exposures,
    fundamental_subscores,
    price_factor,
)
from scenarios.mapreduce import gather, map_assets, stack_array
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel, membership
from scenarios.partial import ShardPartial
from scenarios.pointintime import fundamentals_history, require, split_adjusted
from scenarios.quality import QualityLog
from scenarios.table import assemble, bar_series, build_rows, line_series

MIN_ASSETS = 3


def columns_for(n_quantiles: int) -> list[Column]:
    return [
        Column(name="horizon", label="Horizon", kind="text"),
        Column(name="dates", label="Formation dates", kind="integer"),
        Column(name="mean_ic", label="Mean IC"),
        Column(name="ic_t", label="IC t-stat"),
        Column(
            name="ic_t_nw",
            label="IC t-stat (Newey-West)",
            description="t-stat robust to the overlap of forward returns longer than the step",
        ),
        Column(name="mean_rank_ic", label="Mean rank IC"),
        Column(name="rank_ic_t", label="Rank IC t-stat"),
        Column(name="rank_ic_t_nw", label="Rank IC t-stat (Newey-West)"),
        Column(name="hit_rate", label="Hit rate", kind="percent"),
        *[
            Column(name=f"q{k}", label=f"Q{k} return", kind="percent")
            for k in range(1, n_quantiles + 1)
        ],
        Column(name="spread", label="Top - bottom", kind="percent"),
        Column(name="turnover", label="Top-bucket turnover", kind="percent"),
    ]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's raw exposure (or fundamental sub-scores), whether it traded, and its
    forward returns at every formation date; ranks, IC and quantiles need every asset and
    run in the reduce."""
    longest = max(params.horizons)
    fundamentals = None
    if params.factor in FUNDAMENTAL_FACTORS:
        fundamentals = split_adjusted(require(data, "fundamentals"), data.splits)

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        close = panel["close"]
        last = close.shape[0] - 1
        first = last - params.evaluation_window + 1
        formation = list(range(last - longest, first - 1, -params.rebalance_every))[::-1]
        dates = panel.dates[formation]

        def wide(values: np.ndarray) -> pd.DataFrame:
            return pd.DataFrame(values, index=dates, columns=panel.symbols)

        frames = {"trading": wide(np.isfinite(close[formation]))}
        if fundamentals is not None:
            symbols = panel.symbols.tolist()
            history = fundamentals_history(fundamentals, symbols, dates, panel.log)
            subscores = fundamental_subscores(history, close[formation])
            for name in FUNDAMENTAL_SUBSCORES[params.factor]:
                frames[f"sub_{name}"] = wide(subscores[name])
        else:
            frames["exposure"] = wide(
                np.vstack([price_factor(params.factor, close, t) for t in formation])
            )
        # an asset that stops trading is held at its last price (delisting return = its last move)
        held = panel.frame("close").ffill().to_numpy()
        for h in params.horizons:
            rows = np.asarray(formation)
            frames[f"forward_{h}"] = wide(held[rows + h] / held[rows] - 1.0)
        return pd.DataFrame(index=panel.symbols), frames

    # every member of the window, kept where it was a member and traded (no survivorship)
    return map_assets(
        data,
        params,
        compute,
        (),
        fields=("close",),
        min_sessions={"evaluation_window": params.sessions()},
        window=params.sessions(),
        point_in_time=True,
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """Standardised exposures, membership, IC, quantile returns and turnover over every asset."""
    log, as_of, _ = gather(partials, params)
    dates, symbol_index, trading = stack_array(partials, "trading")
    symbols = symbol_index.tolist()
    if len(symbols) < MIN_ASSETS:
        raise ScenarioInputError(f"a tearsheet needs at least {MIN_ASSETS} assets", "tickers")
    if params.factor in FUNDAMENTAL_FACTORS:
        subscores = {
            name: stack_array(partials, f"sub_{name}")[2]
            for name in FUNDAMENTAL_SUBSCORES[params.factor]
        }
        exposure = fundamental_exposures(params.factor, subscores)
        unscored = ~np.isfinite(exposure).any(axis=0)
        if unscored.any():
            log.note(
                f"{int(unscored.sum())} assets never had the fundamentals {params.factor} needs "
                "at a formation date: " + ", ".join(np.asarray(symbols)[unscored][:5].tolist())
            )
    else:
        exposure = stack_array(partials, "exposure")[2]
    exposure = _members_only(
        exposure,
        trading.astype(bool),
        context=context,
        params=params,
        symbols=symbols,
        dates=dates,
        log=log,
    )
    columns = columns_for(params.n_quantiles)
    table: dict[str, list[Any]] = {c.name: [] for c in columns}
    ic_lines: dict[str, np.ndarray] = {}
    for h in params.horizons:
        forward = stack_array(partials, f"forward_{h}")[2]
        stats = _horizon_stats(forward, exposure, symbols, h, params)
        ic_lines[f"{h}d"] = stats.pop("rank_ic_series")
        table["horizon"].append(f"{h}d")
        for key, value in stats.items():
            table[key].append(value)
    rows = build_rows(columns, table, range(len(params.horizons)))
    quantile_chart = {
        row["horizon"]: [row[f"q{k}"] for k in range(1, params.n_quantiles + 1)] for row in rows
    }
    series = [
        line_series("Rank IC by formation date", dates, ic_lines),
        bar_series(
            "Mean forward return by quantile (1 = highest exposure)",
            [f"Q{k}" for k in range(1, params.n_quantiles + 1)],
            quantile_chart,
        ),
    ]
    log.note(f"{len(dates)} formation dates, last {dates[-1].date()}")
    return assemble(
        "factor_tearsheet",
        as_of,
        columns,
        rows,
        series=series,
        story=_narrative(rows, params),
        quality=log.freeze(assets_used=len(symbols)),
    )


def _members_only(
    exposure: np.ndarray,
    trading: np.ndarray,
    *,
    context: ScenarioData,
    params: Params,
    symbols: list[str],
    dates: pd.DatetimeIndex,
    log: QualityLog,
) -> np.ndarray:
    """Exposures of the assets that were universe members and traded on each formation date."""
    members = membership(context, params, symbols, dates)
    if members is not None:
        trading &= members
        ever = members.any(axis=0)
        log.note(
            f"{int(ever.sum())} universe members over the formation dates, "
            f"{int((~members[-1] & ever).sum())} of them no longer members on the last"
        )
    return np.where(trading, exposure, np.nan)


def _horizon_stats(
    forward_returns: np.ndarray,
    exposures: np.ndarray,
    symbols: list[str],
    horizon: int,
    params: Params,
) -> dict[str, Any]:
    ics, rank_ics, quantile_returns, turnovers = [], [], [], []
    all_rank_ics = []
    previous_top: set[str] | None = None
    for exposure, forward in zip(exposures, forward_returns, strict=True):
        ok = np.isfinite(exposure) & np.isfinite(forward)
        if ok.sum() < MIN_ASSETS:
            all_rank_ics.append(np.nan)
            continue
        x, y = exposure[ok], forward[ok]
        names = [s for s, keep in zip(symbols, ok, strict=True) if keep]
        ics.append(_corr(x, y))
        rank_ic = _corr(_rank(x), _rank(y))
        rank_ics.append(rank_ic)
        all_rank_ics.append(rank_ic)
        bucket = buckets(x, names, params.n_quantiles)
        quantile_returns.append([y[bucket == k].mean() for k in range(1, params.n_quantiles + 1)])
        top = {n for n, b in zip(names, bucket, strict=True) if b == 1}
        if previous_top is not None and previous_top:
            turnovers.append(len(previous_top - top) / len(previous_top))
        previous_top = top
    lags = overlap_lags(horizon, params.rebalance_every)
    stats: dict[str, Any] = {
        "dates": len(ics),
        "mean_ic": _mean(ics),
        "ic_t": _tstat(ics),
        "ic_t_nw": newey_west_t(ics, lags),
        "mean_rank_ic": _mean(rank_ics),
        "rank_ic_t": _tstat(rank_ics),
        "rank_ic_t_nw": newey_west_t(rank_ics, lags),
        "hit_rate": _mean([float(v > 0) for v in ics]),
        "turnover": _mean(turnovers),
        "rank_ic_series": np.asarray(all_rank_ics),
    }
    q = (
        np.asarray(quantile_returns)
        if quantile_returns
        else np.full((1, params.n_quantiles), np.nan)
    )
    for k in range(params.n_quantiles):
        stats[f"q{k + 1}"] = float(np.nanmean(q[:, k])) if np.isfinite(q[:, k]).any() else np.nan
    stats["spread"] = stats["q1"] - stats[f"q{params.n_quantiles}"]
    return stats


def _rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman needs."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]  # type: ignore[no-any-return]


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    xc, yc = x - x.mean(), y - y.mean()
    denom = np.sqrt((xc**2).sum() * (yc**2).sum())
    return float((xc * yc).sum() / denom) if denom > 0 else float("nan")


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _tstat(values: list[float]) -> float:
    finite = np.asarray([v for v in values if np.isfinite(v)])
    if len(finite) < 2 or finite.std(ddof=1) == 0:
        return float("nan")
    return float(finite.mean() / (finite.std(ddof=1) / np.sqrt(len(finite))))


def overlap_lags(horizon: int, step: int) -> int:
    """Lags of autocorrelation that overlapping forward returns induce: ceil(h / step) - 1."""
    return max(0, -(-horizon // step) - 1)


def newey_west_t(values: list[float], lags: int) -> float:
    """t-stat of the mean with a Newey-West (Bartlett-weighted) long-run variance.

    ``lrv = g0 + 2 sum_{l=1..L} (1 - l / (L + 1)) g_l`` with ``g_l`` the autocovariance at lag
    ``l`` (divided by n); ``t = mean / sqrt(lrv / n)``. Equals the naive t (with ddof 0)
    when ``L = 0``.
    """
    x = np.asarray([v for v in values if np.isfinite(v)])
    n = len(x)
    if n < 2:
        return float("nan")
    e = x - x.mean()
    lrv = float(e @ e) / n
    for lag in range(1, min(lags, n - 1) + 1):
        lrv += 2.0 * (1.0 - lag / (lags + 1)) * float(e[lag:] @ e[:-lag]) / n
    if lrv <= 0:
        return float("nan")
    return float(x.mean() / np.sqrt(lrv / n))


def _narrative(rows: list[dict[str, Any]], params: Params) -> Narrative:
    story = Narrative()
    scored = [r for r in rows if r["mean_rank_ic"] is not None]
    if not scored:
        story.say(f"Not enough data to evaluate {params.factor}.")
        return story
    best = max(scored, key=lambda r: (abs(r["mean_rank_ic"]), r["horizon"]))
    direction = "predicts higher" if best["mean_rank_ic"] > 0 else "predicts lower"
    story.about(
        best,
        "mean_rank_ic",
        f"{params.factor} {direction} returns most clearly at {best['horizon']}: mean rank IC "
        f"{num(best['mean_rank_ic'], 3)} (t {num(best['rank_ic_t'], 1)}) over "
        f"{best['dates']} formation dates.",
        key="horizon",
    )
    story.about(
        best,
        "spread",
        f"At {best['horizon']} the top quantile returned {pct(best['q1'], 2)} vs "
        f"{pct(best[f'q{params.n_quantiles}'], 2)} for the bottom: spread "
        f"{pct(best['spread'], 2)} per period.",
        key="horizon",
    )
    story.about(
        rows[0],
        "turnover",
        f"Top-bucket turnover is {pct(rows[0]['turnover'], 0, signed=False)} per rebalance "
        f"(every {params.rebalance_every} sessions).",
        key="horizon",
    )
    return story
