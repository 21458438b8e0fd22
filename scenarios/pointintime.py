"""Point-in-time access to the non-price datasets: nothing dated after ``as_of`` is visible.

Fundamentals and earnings become visible on their ``report_date`` (not their period end),
macro on its ``release_date`` (not its reference period), sentiment on its ``date``. Each
accessor slices first, then aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import ScenarioData, ScenarioInputError
from scenarios.frames import EARNINGS, FUNDAMENTALS, MACRO, SENTIMENT, SPLITS
from scenarios.panel import check_columns
from scenarios.quality import QualityLog

#: flow items summed over the last four reported quarters (trailing twelve months)
FLOW_ITEMS = ("revenue", "net_income")
#: balance-sheet items taken from the latest report (NaN there stays NaN)
STOCK_ITEMS = ("book_equity", "total_assets", "total_debt", "shares_outstanding")
QUARTERS_PER_YEAR = 4
#: four consecutive quarter ends span about 273 days; a missing quarter makes it 365 or more
TTM_MAX_SPAN_DAYS = 300


def require(data: ScenarioData, dataset: str) -> pd.DataFrame:
    """The named frame, or a :class:`ScenarioInputError` naming the missing dataset."""
    frame = getattr(data, dataset)
    if frame is None or frame.empty:
        raise ScenarioInputError(f"this scenario needs {dataset} data", field=dataset)
    return frame  # type: ignore[no-any-return]


def visible(frame: pd.DataFrame, date_column: str, as_of: pd.Timestamp) -> pd.DataFrame:
    dates = pd.to_datetime(frame[date_column])
    out = frame[(dates <= as_of).to_numpy()].copy()
    out[date_column] = dates[(dates <= as_of).to_numpy()]
    return out


def split_adjusted(fundamentals: pd.DataFrame, splits: pd.DataFrame | None) -> pd.DataFrame:
    """Fundamentals whose ``shares_outstanding`` is on the basis of split-adjusted prices.

    Adjusted prices divide every close before a split by its ratio; a share count reported
    before the split is multiplied by the ratios of the splits after its ``report_date``, so
    adjusted close x shares is the market cap on every date (between a split and the next
    report, and before the split alike). Without split data the frame is returned as is.
    """
    if splits is None or splits.empty:
        return fundamentals
    check_columns(splits, SPLITS, "splits")
    events = splits.assign(
        date=pd.to_datetime(splits["date"], errors="coerce"),
        ratio=pd.to_numeric(splits["ratio"], errors="coerce"),
    ).dropna(subset=["date", "ratio"])
    events = events[events["ratio"] > 0]
    if events.empty:
        return fundamentals
    reports = pd.to_datetime(fundamentals["report_date"]).to_numpy()
    factor = np.ones(len(fundamentals))
    symbol = fundamentals["symbol"].astype(str).to_numpy()
    for name, group in events.groupby("symbol"):
        rows = symbol == str(name)
        for date, ratio in zip(group["date"], group["ratio"], strict=True):
            factor[rows & (reports < date.to_datetime64())] *= ratio
    shares = pd.to_numeric(fundamentals["shares_outstanding"], errors="coerce") * factor
    return fundamentals.assign(shares_outstanding=shares)


def fundamentals_as_of(
    fundamentals: pd.DataFrame, symbols: Sequence[str], as_of: pd.Timestamp, log: QualityLog
) -> pd.DataFrame:
    """One row per symbol: latest balance-sheet items and TTM flows known at ``as_of``.

    Index = ``symbols`` (NaN rows for symbols without any report yet, noted in ``log``).
    A TTM flow needs four reported quarters; otherwise it is NaN.
    """
    check_columns(fundamentals, FUNDAMENTALS, "fundamentals")
    known = visible(fundamentals, "report_date", as_of)
    known = known[known["symbol"].isin(list(symbols))]
    known = known.sort_values(["symbol", "period_end", "report_date"], kind="stable")
    # a restated period keeps its latest report known at as_of
    known = known.drop_duplicates(["symbol", "period_end"], keep="last")
    grouped = known.groupby("symbol", sort=True)
    latest = _latest(grouped, log)
    ttm = _ttm(known.groupby("symbol", sort=True).tail(QUARTERS_PER_YEAR), ["symbol"])
    out = latest.join(ttm).join(grouped["report_date"].last().rename("last_report"))
    out = out.reindex(pd.Index(list(symbols), name="symbol"))
    missing = [s for s in symbols if pd.isna(out.loc[s, "last_report"])]
    log.tally(
        "{n} assets have no fundamentals reported by as_of: {first}", dict.fromkeys(missing, 1)
    )
    return out


def fundamentals_history(
    fundamentals: pd.DataFrame,
    symbols: Sequence[str],
    dates: pd.DatetimeIndex,
    log: QualityLog,
) -> dict[str, np.ndarray]:
    """Each item of :func:`fundamentals_as_of` known at every date, as ``(T, N)`` arrays.

    ``T = len(dates)`` (ascending), ``N = len(symbols)``; keys are :data:`STOCK_ITEMS` and
    :data:`FLOW_ITEMS`. Row ``t`` equals ``fundamentals_as_of(..., dates[t], ...)``: a report
    counts only from its ``report_date``, a restated period keeps its latest report known at
    that date, flows are TTM over the last four periods known then. Vectorised: the snapshot is
    rebuilt once per report event (a symbol's distinct report dates), not once per date, and
    dates pick their latest event with an as-of join. Reports after ``dates[-1]`` are ignored.
    """
    check_columns(fundamentals, FUNDAMENTALS, "fundamentals")
    items = (*STOCK_ITEMS, *FLOW_ITEMS)
    out = {name: np.full((len(dates), len(symbols)), np.nan) for name in items}
    if not len(dates):
        return out
    unreported = fundamentals["report_date"].isna() & fundamentals["symbol"].isin(list(symbols))
    log.tally(
        "{n} fundamentals rows without a report date ignored",
        _counts(fundamentals["symbol"][unreported]),
    )
    known = visible(fundamentals, "report_date", dates[-1])
    known = known[known["symbol"].isin(list(symbols))]
    known = known.assign(
        **{name: pd.to_numeric(known[name], errors="coerce") for name in items},
        period_end=pd.to_datetime(known["period_end"]),
    )
    undated = known["period_end"].isna()
    log.tally(
        "{n} fundamentals rows without a period end ignored", _counts(known["symbol"][undated])
    )
    if undated.any():
        known = known[~undated]
    log.tally(
        "no fundamentals reported by the last formation date", {"": len(known)}, when_none=True
    )
    if known.empty:
        return out
    state = _snapshots_at_events(known)
    grid = pd.DataFrame(
        {
            "date": np.repeat(dates.to_numpy(), len(symbols)),
            "symbol": np.tile(np.asarray(symbols, dtype=object), len(dates)),
        }
    ).astype({"symbol": state["symbol"].dtype})
    picked = pd.merge_asof(
        grid.sort_values("date", kind="stable"),
        state.sort_values("report_date", kind="stable"),
        left_on="date",
        right_on="report_date",
        by="symbol",
        direction="backward",
    )
    position = pd.Index(list(symbols)).get_indexer(picked["symbol"])
    row = dates.get_indexer(picked["date"])
    for name in items:
        out[name][row, position] = picked[name].to_numpy(dtype=float)
    return out


def _snapshots_at_events(known: pd.DataFrame) -> pd.DataFrame:
    """One row per (symbol, report date): the :func:`fundamentals_as_of` snapshot just then.

    Each event is paired with every report of its symbol known by then (a triangle per
    symbol, quarters^2 / 2 rows), and the as-of rules are applied per event in one groupby.
    """
    records = known.reset_index(drop=True)
    records["order"] = np.arange(len(records))
    events = (
        records[["symbol", "report_date"]]
        .drop_duplicates()
        .rename(columns={"report_date": "event"})
    )
    pairs = events.merge(records, on="symbol")
    pairs = pairs[(pairs["report_date"] <= pairs["event"]).to_numpy()]
    pairs = pairs.sort_values(
        ["symbol", "event", "period_end", "report_date", "order"], kind="stable"
    )
    pairs = pairs.drop_duplicates(["symbol", "event", "period_end"], keep="last")
    keys = ["symbol", "event"]
    grouped = pairs.groupby(keys, sort=True)
    latest = _latest(grouped, None)
    ttm = _ttm(grouped.tail(QUARTERS_PER_YEAR), keys)
    state = latest.join(ttm).reset_index().rename(columns={"event": "report_date"})
    return state


def _latest(grouped: Any, log: QualityLog | None) -> pd.DataFrame:
    """Balance-sheet items of each group's latest report, as reported: a NaN there is not
    replaced by an older quarter's value (it is noted)."""
    latest = grouped[list(STOCK_ITEMS)].nth(-1)
    latest.index = grouped.size().index
    if log is not None:
        gaps = latest.isna().any(axis=1)
        log.tally(
            "{n} assets' latest fundamentals report lacks an item (left empty, not taken from an "
            "older quarter): {names}",
            {str(k): 1 for k in latest.index[gaps]},
        )
    return latest  # type: ignore[no-any-return]


def _ttm(tail: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Flows summed over each group's last four quarters, NaN unless they are consecutive.

    Consecutive: four reported periods whose ends span at most TTM_MAX_SPAN_DAYS (a missing
    quarter would make the sum cover more than a year), and every flow present.
    """
    grouped = tail.groupby(keys, sort=True)
    ttm = grouped[list(FLOW_ITEMS)].sum(min_count=QUARTERS_PER_YEAR)
    span = grouped["period_end"].max() - grouped["period_end"].min()
    broken = (grouped["period_end"].count() < QUARTERS_PER_YEAR) | (
        span > pd.Timedelta(days=TTM_MAX_SPAN_DAYS)
    )
    ttm.loc[broken.to_numpy()] = np.nan
    return ttm


def earnings_as_of(
    earnings: pd.DataFrame,
    symbols: Sequence[str],
    as_of: pd.Timestamp,
    log: QualityLog | None = None,
) -> pd.DataFrame:
    """Announcements known at ``as_of`` for ``symbols``, sorted by symbol then report date.

    Announcements without a numeric actual or estimate are dropped (counted in ``log``).
    """
    check_columns(earnings, EARNINGS, "earnings")
    known = visible(earnings, "report_date", as_of)
    known = known[known["symbol"].isin(list(symbols))]
    for column in ("eps_actual", "eps_estimate"):
        known[column] = pd.to_numeric(known[column], errors="coerce")
    usable = known[["eps_actual", "eps_estimate"]].notna().all(axis=1)
    if log is not None:
        log.tally(
            "{n} announcements without a numeric EPS actual/estimate dropped ({listing})",
            _counts(known["symbol"][~usable]),
        )
    known = known[usable]
    return known.sort_values(["symbol", "report_date", "fiscal_period"], kind="stable")


def macro_panel(
    macro: pd.DataFrame, dates: pd.DatetimeIndex, log: QualityLog | None = None
) -> pd.DataFrame:
    """``date x series`` levels as they were known on each of ``dates`` (ascending).

    A value is known from its ``release_date``, never from its reference ``date`` (CPI for
    January is not known on January 1st). On each date a series' level is the value of the
    latest reference period released by then: an as-of join on ``release_date``; a later
    release of the same period (a revision) replaces it from its own release date, a late
    release of an older period does not replace a newer one. Rows without a release date or a
    numeric value are ignored (counted in ``log``).
    """
    check_columns(macro, MACRO, "macro")
    frame = pd.DataFrame(
        {
            "series": macro["series"].to_numpy(),
            "date": pd.to_datetime(macro["date"]).astype("datetime64[ns]").to_numpy(),
            "release_date": pd.to_datetime(macro["release_date"])
            .astype("datetime64[ns]")
            .to_numpy(),
            "value": pd.to_numeric(macro["value"], errors="coerce").to_numpy(),
        }
    )
    unusable = frame["release_date"].isna() | frame["date"].isna() | frame["value"].isna()
    if log is not None and unusable.any():
        log.note(
            f"{int(unusable.sum())} macro values without a release date, reference date or "
            "numeric value ignored"
        )
    frame = frame[~unusable & (frame["release_date"] <= dates[-1]).to_numpy()]
    at = pd.DataFrame({"at": dates.astype("datetime64[ns]")})
    levels: dict[str, np.ndarray] = {}
    for series, group in frame.groupby("series", sort=True):
        rows = group.sort_values(["release_date", "date"], kind="stable")
        newest = rows[(rows["date"] >= rows["date"].cummax()).to_numpy()]
        newest = newest.drop_duplicates("release_date", keep="last")
        known = pd.merge_asof(
            at, newest, left_on="at", right_on="release_date", direction="backward"
        )
        levels[str(series)] = known["value"].to_numpy(dtype=float)
    return pd.DataFrame(levels, index=dates)


def sentiment_panel(
    sentiment: pd.DataFrame,
    dates: pd.DatetimeIndex,
    symbols: Sequence[str],
    log: QualityLog | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(T, N)`` daily mention-weighted score and mention counts (0 where nothing was said).

    Rows without a numeric score or mention count are dropped (counted in ``log``).
    """
    check_columns(sentiment, SENTIMENT, "sentiment")
    known = visible(sentiment, "date", dates[-1])
    known = known[known["symbol"].isin(list(symbols)) & (known["date"] >= dates[0])]
    known = known.assign(
        score=pd.to_numeric(known["score"], errors="coerce").clip(-1, 1),
        mentions=pd.to_numeric(known["mentions"], errors="coerce").clip(lower=0),
    )
    usable = known[["score", "mentions"]].notna().all(axis=1)
    if log is not None:
        log.tally(
            "{n} sentiment rows without a numeric score/mentions dropped ({listing})",
            _counts(known["symbol"][~usable]),
        )
    known = known[usable]
    # a day without a trading session is credited to the next session
    position = np.searchsorted(dates.to_numpy(), known["date"].to_numpy(), side="left")
    column = pd.Index(list(symbols)).get_indexer(known["symbol"])
    weighted = np.zeros((len(dates), len(symbols)))
    mentions = np.zeros((len(dates), len(symbols)))
    np.add.at(weighted, (position, column), (known["score"] * known["mentions"]).to_numpy())
    np.add.at(mentions, (position, column), known["mentions"].to_numpy())
    return weighted, mentions


def _counts(symbols: pd.Series) -> dict[str, int]:
    """Rows per symbol (for a :meth:`QualityLog.tally`)."""
    return {str(k): int(v) for k, v in symbols.astype(str).value_counts().items()}
