"""Row-level validation: every rejected row gets machine-readable reasons; nothing is dropped
silently.

:func:`validate` splits a fetched frame into canonical good rows and quarantined rows (the input
values as received, plus ``row`` and ``reason``; several reasons are joined with ``;``).
Checks: required columns, types, missing values, future dates, symbols (pattern and, when a
symbol master exists, membership; not for prices, whose new symbols
:mod:`quantdesk.ingestion.registration` registers), duplicates, non-positive prices, OHLC
consistency, suspicious split jumps, value ranges, macro release dates (required, never before
the reference date, never in the future); gaps in a symbol's trading days are reported as notes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from quantdesk.datalake import columnar
from quantdesk.datalake.layout import DATE_COLUMNS, layout
from scenarios.base import TICKER_PATTERN, UNIVERSE_PATTERN
from scenarios.frames import MACRO_SERIES, SECTOR_NAMES

#: close-to-close ratios that look like an unadjusted split (and their inverses)
SPLIT_RATIOS: Final = (2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 1.5, 20.0)
SPLIT_TOLERANCE: Final = 0.03
#: missing business days in a row before a symbol's history counts as gapped
GAP_DAYS: Final = 3
NULLABLE: Final = frozenset({"end_date"})
FISCAL_PERIOD: Final = re.compile(r"^\d{4}Q[1-4]$")
MAX_NOTES: Final = 50
#: datasets whose symbols need not be known: they define symbols (prices register new ones)
DEFINE_SYMBOLS: Final = frozenset({"sectors", "prices"})


class Gap(BaseModel):
    symbol: str
    after: dt.date
    resumed: dt.date
    missing_days: int


class DatasetReport(BaseModel):
    """Validation outcome of one dataset of one batch."""

    dataset: str
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = Field(default_factory=dict, description="reason -> row count")
    errors: list[str] = Field(default_factory=list, description="dataset-level problems")
    notes: list[str] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list, description="first few gaps")


class _Reasons:
    """Accumulates ``;``-joined reasons per row, vectorised."""

    def __init__(self, index: pd.Index) -> None:
        self.values = pd.Series("", index=index, dtype=object)

    def add(self, mask: pd.Series, reason: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            self.values[mask] = self.values[mask] + reason + ";"

    @property
    def bad(self) -> pd.Series:
        return self.values != ""


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO dates fast; anything else parsed leniently; unparseable -> NaT (quarantined)."""

    if pd.api.types.is_numeric_dtype(values):  # 20240102 must not become nanoseconds
        values = values.astype("string").str.removesuffix(".0")
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
    retry = parsed.isna() & values.notna()
    if retry.any():
        parsed[retry] = pd.to_datetime(values[retry], errors="coerce", format="mixed", utc=True)
    return parsed.dt.tz_localize(None)


def _coerce(dataset: str, raw: pd.DataFrame, reasons: _Reasons) -> pd.DataFrame:
    out = pd.DataFrame(index=raw.index)
    for column in layout(dataset).columns:
        values = raw[column]
        if column in DATE_COLUMNS:
            if pd.api.types.is_datetime64_any_dtype(values):
                parsed = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
            else:
                parsed = _parse_dates(values)
            parsed = parsed.astype("datetime64[ns]")
        elif column in columnar.STRING_COLUMNS:
            parsed = values.where(values.isna(), values.astype(str).str.strip())
            parsed = parsed.where(parsed != "", None)
            if column == "symbol":
                parsed = parsed.str.upper().str.lstrip("$")
        else:
            parsed = pd.to_numeric(values, errors="coerce").astype("float64")
        present = values.notna()
        if not (
            pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
        ):
            present &= values.astype(str).str.strip() != ""
        if column not in NULLABLE:
            reasons.add(~present, f"missing_{column}")
        reasons.add(present & parsed.isna(), f"invalid_{column}")
        out[column] = parsed
    return out


def _common_checks(
    dataset: str,
    frame: pd.DataFrame,
    reasons: _Reasons,
    *,
    today: dt.date,
    known_symbols: set[str] | None,
) -> None:
    horizon = pd.Timestamp(today) + pd.Timedelta(days=1)
    for column in layout(dataset).date_columns:
        if column not in ("start_date", "end_date"):
            reasons.add(frame[column] >= horizon, "future_date")
    if layout(dataset).has_symbol:
        symbol = frame["symbol"]
        reasons.add(symbol.notna() & ~symbol.fillna("").str.match(TICKER_PATTERN), "invalid_symbol")
        if known_symbols is not None and dataset not in DEFINE_SYMBOLS:
            reasons.add(symbol.notna() & ~symbol.isin(known_symbols), "unknown_symbol")
    keys = list(layout(dataset).keys)
    clean = ~reasons.bad
    # hashing the keys is cheap; whole rows are compared only where keys repeat
    repeated = frame[clean].duplicated(subset=keys, keep=False)
    if not repeated.any():
        return
    candidates = frame[clean][repeated]
    exact = candidates.duplicated(keep="first")
    reasons.add(exact.reindex(frame.index, fill_value=False), "duplicate_row")
    conflicting = candidates[~exact].duplicated(subset=keys, keep=False)
    reasons.add(conflicting.reindex(frame.index, fill_value=False), "conflicting_duplicate")


def _split_jumps(frame: pd.DataFrame, ok: pd.Series) -> pd.Series:
    """Rows from a suspicious split-like jump to the end of that symbol's batch."""

    rows = frame.loc[ok, ["symbol", "date", "close"]].sort_values(["symbol", "date"])
    ratio = rows["close"] / rows.groupby("symbol")["close"].shift(1)
    big = np.maximum(ratio, 1 / ratio)
    near = np.zeros(len(rows), dtype=bool)
    for target in SPLIT_RATIOS:
        near |= (np.abs(big / target - 1) < SPLIT_TOLERANCE).to_numpy()
    flagged = pd.Series(near, index=rows.index)
    tainted = flagged.groupby(rows["symbol"]).cummax()
    return tainted.reindex(frame.index, fill_value=False)


def _price_checks(frame: pd.DataFrame, reasons: _Reasons) -> None:
    prices = frame[["open", "high", "low", "close"]]
    reasons.add((prices <= 0).any(axis=1), "non_positive_price")
    reasons.add(frame["volume"] < 0, "negative_volume")
    tolerance = 1e-9 * frame["close"].abs()
    inconsistent = (
        (frame["low"] > frame[["open", "close"]].min(axis=1) + tolerance)
        | (frame["high"] < frame[["open", "close"]].max(axis=1) - tolerance)
        | (frame["low"] > frame["high"])
    )
    reasons.add(inconsistent, "ohlc_inconsistent")
    reasons.add(_split_jumps(frame, ~reasons.bad), "suspicious_split_jump")


def _gaps(frame: pd.DataFrame) -> tuple[int, list[Gap]]:
    """Runs of more than GAP_DAYS missing trading days inside a symbol's history."""

    if frame.empty:
        return 0, []
    calendar = np.sort(frame["date"].unique())
    position = pd.Series(np.arange(len(calendar)), index=pd.DatetimeIndex(calendar))
    rows = frame[["symbol", "date"]].sort_values(["symbol", "date"])
    pos = position.reindex(rows["date"]).to_numpy()
    step = pd.Series(pos, index=rows.index).groupby(rows["symbol"].to_numpy()).diff()
    hits = step[step > GAP_DAYS + 1]
    gaps = []
    for index, skipped in hits.head(MAX_NOTES).items():
        resumed = rows.loc[index, "date"]
        after = calendar[int(position[resumed]) - int(skipped)]
        gaps.append(
            Gap(
                symbol=str(rows.loc[index, "symbol"]),
                after=pd.Timestamp(after).date(),
                resumed=pd.Timestamp(resumed).date(),
                missing_days=int(skipped) - 1,
            )
        )
    return len(hits), gaps


def _dataset_checks(dataset: str, frame: pd.DataFrame, reasons: _Reasons) -> None:
    if dataset == "prices":
        _price_checks(frame, reasons)
    elif dataset == "sentiment":
        reasons.add(frame["score"].abs() > 1, "score_out_of_range")
        reasons.add(frame["mentions"] < 0, "negative_mentions")
    elif dataset == "fundamentals":
        reasons.add(frame["report_date"] < frame["period_end"], "report_before_period_end")
        reasons.add(frame["shares_outstanding"] <= 0, "non_positive_shares")
    elif dataset == "earnings":
        period = frame["fiscal_period"].fillna("")
        reasons.add(~period.str.match(FISCAL_PERIOD.pattern), "invalid_fiscal_period")
    elif dataset == "macro":
        reasons.add(~frame["series"].isin(MACRO_SERIES), "unknown_series")
        # a value cannot be public before the period it describes begins
        reasons.add(frame["release_date"] < frame["date"], "release_before_date")
    elif dataset == "universe":
        name = frame["universe"].fillna("")
        reasons.add(
            frame["universe"].notna() & ~name.str.match(UNIVERSE_PATTERN), "invalid_universe"
        )
        reasons.add(frame["end_date"] < frame["start_date"], "end_before_start")
    elif dataset == "sectors":
        reasons.add(~frame["sector"].isin(SECTOR_NAMES), "unknown_sector")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Quarantined input as received, but storable: mixed-type columns become strings."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def validate(
    dataset: str,
    raw: pd.DataFrame,
    *,
    today: dt.date,
    known_symbols: set[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, DatasetReport]:
    """Split ``raw`` into (good canonical rows, quarantined rows, report)."""

    report = DatasetReport(dataset=dataset, rows_in=len(raw))
    raw = raw.reset_index(drop=True)
    columns = list(layout(dataset).columns)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        reason = "missing_columns:" + ",".join(missing)
        report.errors.append(f"{dataset}: required columns missing: {', '.join(missing)}")
        bad = _as_text(raw).assign(row=range(len(raw)), reason=reason)
        report.rows_quarantined = len(raw)
        report.reasons = {reason: len(raw)} if len(raw) else {}
        return columnar.canonical(dataset, pd.DataFrame(columns=columns)), bad, report
    extra = [c for c in raw.columns if c not in columns and not str(c).startswith("_")]
    if extra:
        report.notes.append(f"ignored extra columns: {', '.join(map(str, extra))}")
    reasons = _Reasons(raw.index)
    frame = _coerce(dataset, raw, reasons)
    _common_checks(dataset, frame, reasons, today=today, known_symbols=known_symbols)
    _dataset_checks(dataset, frame, reasons)
    bad_mask = reasons.bad
    good = columnar.canonical(dataset, frame[~bad_mask])
    bad = _as_text(raw[bad_mask]).assign(
        row=raw.index[bad_mask], reason=reasons.values[bad_mask].str.rstrip(";")
    )
    report.rows_valid = len(good)
    report.rows_quarantined = len(bad)
    counts: dict[str, int] = {}
    for joined, count in bad["reason"].value_counts().items():
        for reason in str(joined).split(";"):
            counts[reason] = counts.get(reason, 0) + int(count)
    report.reasons = dict(sorted(counts.items()))
    if known_symbols is None and layout(dataset).has_symbol and dataset not in DEFINE_SYMBOLS:
        report.notes.append("no symbol master yet: unknown-symbol check skipped")
    if counts.get("unknown_symbol"):
        report.notes.append(
            f"{counts['unknown_symbol']} row(s) name symbols the lake does not know: ingest "
            "their prices first (prices of new symbols register them in a universe)"
        )
    if dataset == "prices":
        total, gaps = _gaps(good)
        report.gaps = gaps
        if total:
            report.notes.append(f"{total} gap(s) of more than {GAP_DAYS} trading days")
    return good, bad, report
