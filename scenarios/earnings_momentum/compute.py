"""``earnings_momentum``: SUE from report-date-aligned announcements, drift, revision proxy.

Input: prices (``close``) and earnings announcements (visible from ``report_date``). Output:
one row per asset, rank 1 = strongest earnings momentum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, ScenarioData, ScenarioResult, Series
from scenarios.crosssection import mean_available, zscore
from scenarios.earnings_momentum import REVISION_LAG, Params
from scenarios.mapreduce import gather, map_assets
from scenarios.narrative import Narrative, num, pct
from scenarios.panel import Panel
from scenarios.partial import ShardPartial
from scenarios.pointintime import earnings_as_of, require
from scenarios.table import assemble, bar_series, extreme, ranked_rows

#: per-asset values a shard hands to the reduce
STATS_COLUMNS = (
    "report_date",
    "fiscal_period",
    "eps_actual",
    "eps_estimate",
    "surprise_pct",
    "sue",
    "revision",
    "drift",
    "start",
    "end",
)

COLUMNS = [
    Column(name="rank", label="Rank", kind="integer"),
    Column(name="symbol", label="Symbol", kind="text"),
    Column(name="report_date", label="Last report", kind="date"),
    Column(name="fiscal_period", label="Period", kind="text"),
    Column(name="eps_actual", label="EPS"),
    Column(name="eps_estimate", label="Estimate"),
    Column(name="surprise_pct", label="Surprise", kind="percent"),
    Column(name="sue", label="SUE"),
    Column(name="drift", label="Drift since report", kind="percent"),
    Column(name="abnormal_drift", label="Drift vs selection", kind="percent"),
    Column(name="revision", label="Estimate revision", kind="percent"),
    Column(name="stale", label="Stale", kind="text"),
    Column(name="score", label="Score"),
]


def run(data: ScenarioData, params: Params) -> ScenarioResult:
    """The single worker: the sharded run with one shard holding every asset."""
    return reduce([map_shard(data, params)], data, params)


def map_shard(data: ScenarioData, params: Params, shard: object = None) -> ShardPartial:
    """Each asset's latest report, SUE, revision and drift; the slice's daily return sums
    (the equal-weight market of the drift is summed over every slice in the reduce)."""
    earnings = require(data, "earnings")

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        symbols = panel.symbols.tolist()
        known = earnings_as_of(earnings, symbols, panel.as_of, panel.log)
        stats = _surprise_stats(known, symbols, params)
        for j, symbol in enumerate(symbols):
            if pd.isna(stats["report_date"].iloc[j]):
                panel.log.note(f"{symbol}: no earnings report by as_of")
        frame = stats.assign(**_drift(panel, stats["report_date"], params))
        close = panel["close"]
        returns = close[1:] / close[:-1] - 1.0
        finite = np.isfinite(returns)
        market = pd.DataFrame(
            {"total": np.where(finite, returns, 0.0).sum(axis=1), "count": finite.sum(axis=1)},
            index=panel.dates[1:],
        )
        return frame, {"market": market}

    return map_assets(
        data, params, compute, STATS_COLUMNS, fields=("close",), min_sessions={"drift_window": 2}
    )


def reduce(
    partials: Sequence[ShardPartial], context: ScenarioData, params: Params
) -> ScenarioResult:
    """The market's drift, abnormal drift, scores, ranks, charts and narrative."""
    log, as_of, stats = gather(partials, params)
    symbols = [str(s) for s in stats.index]
    market = _market([p.frames["market"] for p in partials if "market" in p.frames])
    start, end = stats["start"].to_numpy(), stats["end"].to_numpy()
    drift = stats["drift"].to_numpy(dtype=float)
    usable = np.isfinite(start)
    abnormal = np.full(len(symbols), np.nan)
    first, last = start[usable].astype(int), end[usable].astype(int)
    abnormal[usable] = drift[usable] - (market[last] / market[first] - 1.0)
    report_dates = pd.to_datetime(stats["report_date"])
    age = (as_of - report_dates).dt.days.to_numpy(dtype=float)
    stale = ~(age <= params.max_report_age)
    scored = [np.where(stale, np.nan, v) for v in (stats["sue"], abnormal, stats["revision"])]
    score = mean_available([zscore(v) for v in scored])
    metrics: dict[str, Any] = {
        "symbol": np.asarray(symbols, dtype=object),
        "report_date": [None if pd.isna(d) else pd.Timestamp(d) for d in report_dates],
        "fiscal_period": [None if pd.isna(p) else str(p) for p in stats["fiscal_period"]],
        "eps_actual": stats["eps_actual"].to_numpy(dtype=float),
        "eps_estimate": stats["eps_estimate"].to_numpy(dtype=float),
        "surprise_pct": stats["surprise_pct"].to_numpy(dtype=float),
        "sue": stats["sue"].to_numpy(dtype=float),
        "drift": drift,
        "abnormal_drift": abnormal,
        "revision": stats["revision"].to_numpy(dtype=float),
        "stale": np.where(stale, "yes", "no"),
        "score": score,
    }
    rows = ranked_rows(COLUMNS, metrics)
    return assemble(
        "earnings_momentum",
        as_of,
        COLUMNS,
        rows,
        series=_charts(rows, params),
        story=_narrative(rows),
        quality=log.freeze(assets_used=len(symbols)),
    )


def _market(sums: Sequence[pd.DataFrame]) -> np.ndarray:
    """Cumulative equal-weight market from the slices' daily return sums and counts.

    One slice: exactly ``equal_weight`` of the whole panel. Several: the same up to the order
    of the floating-point sum over assets (about 1e-16 relative per day).
    """
    total = np.sum([s["total"].to_numpy() for s in sums], axis=0)
    count = np.sum([s["count"].to_numpy() for s in sums], axis=0)
    daily = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return np.concatenate([[1.0], np.cumprod(1.0 + daily)])


def _surprise_stats(known: pd.DataFrame, symbols: list[str], params: Params) -> pd.DataFrame:
    """Per symbol: the latest report, its surprise, SUE and revision proxy."""
    records = []
    for symbol, group in known.groupby("symbol", sort=True):
        surprise = (group["eps_actual"] - group["eps_estimate"]).to_numpy(dtype=float)
        past = surprise[:-1][-params.sue_history :]
        sue = np.nan
        if len(past) >= params.min_history:
            spread = past.std(ddof=1)
            sue = surprise[-1] / spread if spread > 0 else np.nan
        estimates = group["eps_estimate"].to_numpy(dtype=float)
        revision = np.nan
        if len(estimates) > REVISION_LAG and estimates[-1 - REVISION_LAG] > 0:
            revision = estimates[-1] / estimates[-1 - REVISION_LAG] - 1.0
        last = group.iloc[-1]
        estimate = float(last["eps_estimate"])
        records.append(
            {
                "symbol": symbol,
                "report_date": last["report_date"],
                "fiscal_period": last["fiscal_period"],
                "eps_actual": float(last["eps_actual"]),
                "eps_estimate": estimate,
                "surprise_pct": surprise[-1] / abs(estimate) if estimate != 0 else np.nan,
                "sue": sue,
                "revision": revision,
            }
        )
    columns = ["report_date", "fiscal_period", "eps_actual", "eps_estimate", "surprise_pct"]
    frame = pd.DataFrame(records, columns=["symbol", *columns, "sue", "revision"])
    return frame.set_index("symbol").reindex(symbols)


def _drift(panel: Panel, report_dates: pd.Series, params: Params) -> dict[str, np.ndarray]:
    """Each asset's drift after its last report and the sessions it spans (NaN if none)."""
    close = panel["close"]
    drift = np.full(len(panel.symbols), np.nan)
    start_row = np.full(len(panel.symbols), np.nan)
    end_row = np.full(len(panel.symbols), np.nan)
    dates = panel.dates.to_numpy()
    for j, report in enumerate(report_dates.to_numpy()):
        if pd.isna(report):
            continue
        # day 0: the first session on or after the report date; the drift is what follows the
        # day-0 reaction, close of day 0 to close of day drift_window (or as_of)
        start = int(np.searchsorted(dates, np.datetime64(report), side="left"))
        end = min(start + params.drift_window, len(dates) - 1)
        if end <= start or not np.isfinite(close[start, j]):
            continue
        drift[j] = close[end, j] / close[start, j] - 1.0
        start_row[j], end_row[j] = start, end
    return {"drift": drift, "start": start_row, "end": end_row}


def _charts(rows: list[dict[str, Any]], params: Params) -> list[Series]:
    scored = [r for r in rows if r["sue"] is not None]
    top = scored[: params.top_n]
    ordered = sorted(scored, key=lambda r: (r["sue"], r["symbol"]))
    thirds = [ordered[i * len(ordered) // 3 : (i + 1) * len(ordered) // 3] for i in range(3)]
    means = [
        float(np.mean([r["abnormal_drift"] for r in g if r["abnormal_drift"] is not None]))
        if any(r["abnormal_drift"] is not None for r in g)
        else float("nan")
        for g in thirds
    ]
    return [
        bar_series(
            "SUE of the top names", [r["symbol"] for r in top], {"sue": [r["sue"] for r in top]}
        ),
        bar_series(
            "Average abnormal drift by SUE tercile",
            ["low SUE", "mid SUE", "high SUE"],
            {"abnormal_drift": means},
        ),
    ]


def _narrative(rows: list[dict[str, Any]]) -> Narrative:
    story = Narrative()
    fresh = [r for r in rows if r["stale"] == "no"]
    beats = sum((r["surprise_pct"] or 0) > 0 for r in fresh)
    story.say(
        f"{len(fresh)} of {len(rows)} assets reported recently; {beats} beat their estimate.",
        field="stale",
    )
    best = rows[0]
    story.about(
        best,
        "score",
        f"Strongest earnings momentum: {best['symbol']} (SUE {num(best['sue'], 2)}, surprise "
        f"{pct(best['surprise_pct'])}, drift {pct(best['abnormal_drift'])} vs the selection).",
    )
    top_sue = extreme(fresh, "sue")
    if top_sue is not None and top_sue is not best:
        story.about(
            top_sue, "sue", f"Largest SUE: {top_sue['symbol']} at {num(top_sue['sue'], 2)}."
        )
    miss = extreme(fresh, "sue", largest=False)
    if miss is not None and (miss["sue"] or 0) < 0:
        story.about(
            miss,
            "sue",
            f"Biggest miss: {miss['symbol']} (SUE {num(miss['sue'], 2)}), drift since report "
            f"{pct(miss['drift'])}.",
        )
    return story
