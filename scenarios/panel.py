"""From the long price frame to aligned ``date x symbol`` arrays for the selected assets.

The long input (schema :data:`scenarios.frames.PRICES`)::

    date        symbol  open    high    low     close   volume
    2024-01-02  AAA     10.00   10.40   9.90    10.20   1.2e6
    2024-01-02  BBB     55.10   55.30   54.00   54.80   3.4e5

becomes one ``(T, N)`` float64 array per field, rows = trading dates ascending (the union of
dates seen up to ``as_of``), columns = symbols sorted. Every scenario goes through
:func:`load_panel`, which applies the request's selection and the point-in-time cut *before*
anything else and records what it skipped in a :class:`~scenarios.quality.QualityLog`.

Cleaning rules (reported, never silent):

* rows dated after ``as_of`` are discarded first, so later data cannot influence anything;
* rows with a missing or unparseable date (of a selected asset) and rows without a symbol (in
  the analysis window) are dropped and counted: they cannot be placed on the panel;
* rows with a missing, non-numeric or non-positive price (or negative volume) are dropped;
* duplicate ``(date, symbol)`` rows keep the last one;
* gaps inside an asset's history (halts, missing rows) are forward-filled from the last close
  with zero volume, for at most :data:`MAX_STALE_SESSIONS` trailing sessions; an asset with no
  price in the last :data:`MAX_STALE_SESSIONS` sessions is dropped as halted or delisted;
* an asset with fewer valid sessions than the scenario needs is dropped, naming the input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import ScenarioData, ScenarioInputError, ScenarioParams
from scenarios.quality import QualityLog, symbol_list

#: trailing sessions an asset may miss before it is treated as halted/delisted
MAX_STALE_SESSIONS = 5
#: why a requested ticker is missing from the result
MISSING_TICKER = "no price data in the analysis window (unknown ticker or outside universe)"
#: how far a slice's selection got before it failed: the furthest stage over all slices wins
STAGE_DATES, STAGE_MEMBERS, STAGE_TICKERS, STAGE_SECTOR = range(4)


class SelectionError(ScenarioInputError):
    """A selection that found no asset, with the stage (``STAGE_*``) it failed at."""

    def __init__(self, message: str, field: str, stage: int) -> None:
        super().__init__(message, field=field)
        self.stage = stage


class ShardCalendarError(RuntimeError):
    """Slices of the assets saw different sessions: their results cannot be merged exactly."""


@dataclass
class PanelScan:
    """What loading one slice of the assets counted, JSON-able so slices merge exactly.

    :func:`settle_panels` turns the scans of all slices (one, for a single worker) into the
    :class:`QualityLog` one load of every asset would have written.
    """

    first: str | None = None
    last: str | None = None
    as_of: str | None = None
    #: fingerprints of the analysis window's sessions and of the panel's dates
    window: str = ""
    calendar: str = ""
    n_dates: int = 0
    undated: dict[str, int] = field(default_factory=dict)
    unnamed: int = 0
    bad: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    stopped: list[tuple[str, str]] = field(default_factory=list)
    filled: int = 0
    requested: int = 0
    chosen: list[str] = field(default_factory=list)
    kept: int = 0
    rows_in: int = 0
    rows_dropped: int = 0
    dropped: dict[str, str] = field(default_factory=dict)
    #: ``(stage, message, field)`` of a selection that found nothing
    error: tuple[int, str, str] | None = None

    def fail(self, stage: int, message: str, field: str) -> None:
        self.error = (stage, message, field)

    def absorb(self, log: QualityLog) -> None:
        """Take over the drops a selection and screening logged."""
        self.rows_in += log.rows_in
        self.rows_dropped += log.rows_dropped
        for symbol, reason in log.dropped.items():
            self.dropped.setdefault(symbol, reason)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PanelScan:
        scan = cls(**raw)
        scan.stopped = [(str(a), str(b)) for a, b in scan.stopped]
        scan.error = None if scan.error is None else tuple(scan.error)  # type: ignore[assignment]
        return scan


@dataclass(frozen=True)
class Panel:
    """Aligned wide arrays for the selected, cleaned assets.

    ``values[field]`` is a C-contiguous ``(len(dates), len(symbols))`` float64 array; leading
    rows before an asset's first trade are NaN, everything after is filled.
    """

    as_of: pd.Timestamp
    dates: pd.DatetimeIndex
    symbols: pd.Index
    values: Mapping[str, np.ndarray]
    log: QualityLog

    def __getitem__(self, field: str) -> np.ndarray:
        return self.values[field]

    def frame(self, field: str) -> pd.DataFrame:
        """``field`` as a ``date x symbol`` DataFrame (no copy)."""
        return pd.DataFrame(self.values[field], index=self.dates, columns=self.symbols, copy=False)

    @property
    def n_dates(self) -> int:
        return len(self.dates)


def check_columns(frame: pd.DataFrame, required: Iterable[str], dataset: str) -> None:
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ScenarioInputError(f"{dataset} data lacks column(s) {', '.join(missing)}", dataset)


def membership(
    data: ScenarioData, params: ScenarioParams, symbols: Sequence[str], dates: pd.DatetimeIndex
) -> np.ndarray | None:
    """``(len(dates), len(symbols))`` mask: was the symbol a member of the universe that day.

    Membership intervals (``start_date`` inclusive, ``end_date`` exclusive, NaT = still a
    member) come from ``data.universe``; None when the request names tickers or no membership
    data came with the prices (every asset counts at every date).
    """
    frame = data.universe
    if params.tickers or frame is None or frame.empty:
        return None
    check_columns(frame, ("symbol", "start_date", "end_date"), "universe")
    if "universe" in frame.columns:
        frame = frame[frame["universe"] == params.universe]
    column = pd.Index(list(symbols)).get_indexer(frame["symbol"].astype(str))
    frame, column = frame[column >= 0], column[column >= 0]
    day = dates.to_numpy()[:, None]
    start = pd.to_datetime(frame["start_date"]).to_numpy()[None, :]
    end = pd.to_datetime(frame["end_date"]).to_numpy()[None, :]
    inside = (start <= day) & (np.isnat(end) | (day < end))
    mask = np.zeros((len(dates), len(symbols)), dtype=bool)
    for k, j in enumerate(column):  # a symbol may have several intervals
        mask[:, j] |= inside[:, k]
    return mask


def select_symbols(
    available: Sequence[str],
    data: ScenarioData,
    params: ScenarioParams,
    log: QualityLog,
    *,
    as_of: pd.Timestamp | None = None,
    missing_tickers: bool = True,
) -> list[str]:
    """Apply ``tickers`` (else the universe) and ``sector``; record what is missing.

    With membership data, the universe is its members on ``as_of`` (all dates when None: a
    point-in-time scenario picks the members of each date itself). A slice of the assets
    leaves the tickers it lacks to the merge (``missing_tickers=False``): another slice may
    hold them.
    """
    present = set(available)
    if as_of is not None:
        members = membership(data, params, sorted(present), pd.DatetimeIndex([as_of]))
        if members is not None:
            present = {s for s, m in zip(sorted(present), members[0], strict=True) if m}
            if not present and not params.tickers:
                raise SelectionError(
                    f"no asset with prices is a member of {params.universe} on {as_of.date()}",
                    "universe",
                    STAGE_MEMBERS,
                )
    if params.tickers:
        chosen = [t for t in params.tickers if t in present]
        for ticker in params.tickers:
            if missing_tickers and ticker not in present:
                log.drop(ticker, MISSING_TICKER)
        if not chosen:
            raise SelectionError(
                f"none of the tickers has price data: {', '.join(params.tickers)}",
                "tickers",
                STAGE_TICKERS,
            )
    else:
        chosen = sorted(present)
    log.assets_requested = len(params.tickers) if params.tickers else len(chosen)
    if params.sector is None:
        return chosen
    return _filter_sector(chosen, data, params.sector, log, explicit=bool(params.tickers))


def _filter_sector(
    chosen: list[str], data: ScenarioData, sector: str, log: QualityLog, *, explicit: bool
) -> list[str]:
    if data.sectors is None or data.sectors.empty:
        raise ScenarioInputError("a sector filter needs sector classification data", "sector")
    check_columns(data.sectors, ("symbol", "sector"), "sectors")
    lookup = sector_map(data.sectors)
    wanted = sector.strip().casefold()
    kept = [s for s in chosen if lookup.get(s, "").casefold() == wanted]
    if explicit:
        for symbol in chosen:
            if symbol not in kept:
                log.drop(symbol, f"not in sector {sector}")
    else:
        log.assets_requested = len(kept)
    if not kept:
        raise SelectionError(f"no selected asset is in sector {sector!r}", "sector", STAGE_SECTOR)
    return kept


def sector_map(sectors: pd.DataFrame) -> dict[str, str]:
    """symbol -> sector (last row wins for duplicated symbols)."""
    frame = sectors.dropna(subset=["symbol", "sector"])
    return dict(zip(frame["symbol"].astype(str), frame["sector"].astype(str), strict=True))


def load_panel(
    data: ScenarioData,
    params: ScenarioParams,
    *,
    fields: Sequence[str] = ("close",),
    min_sessions: Mapping[str, int] | None = None,
    window: int | None = None,
    point_in_time: bool = False,
) -> Panel:
    """Select, cut at ``as_of``, clean and pivot the prices for a scenario.

    Parameters
    ----------
    fields:
        price fields needed (subset of open/high/low/close/volume).
    min_sessions:
        ``{input name: trading sessions needed}``; the largest is required of every asset, and
        the input is named in the error when the data as a whole is too short.
    window:
        keep only the last ``window`` trading sessions up to ``as_of`` (all when None). A
        scenario whose statistics reach back a bounded number of sessions sets it, so results
        do not depend on how much older history happens to be supplied, and big panels stay
        cheap.
    point_in_time:
        for scenarios that evaluate many past dates: keep every asset of the data (every
        universe member of the window, not only those of ``as_of``), and keep assets that
        stopped trading or have a short history (their cells before the first and after the
        last price stay NaN; gaps in between are filled). ``min_sessions`` then binds the data
        as a whole, not each asset: the scenario uses an asset only where it has the history.

    This is :func:`scan_panel` of the whole data settled alone (:func:`settle_panels`): a
    sharded run scans each slice of assets and settles the scans together, the same way.
    """
    panel, scan = scan_panel(
        data,
        params,
        fields=fields,
        min_sessions=min_sessions,
        window=window,
        point_in_time=point_in_time,
    )
    log = settle_panels([scan], params)
    assert panel is not None  # settle_panels raises when no asset is kept
    return replace(panel, log=log)


def scan_panel(
    data: ScenarioData,
    params: ScenarioParams,
    *,
    fields: Sequence[str] = ("close",),
    min_sessions: Mapping[str, int] | None = None,
    window: int | None = None,
    point_in_time: bool = False,
) -> tuple[Panel | None, PanelScan]:
    """:func:`load_panel` of one slice of the assets, without the checks that need them all.

    Returns the slice's panel (None when it keeps no asset) and a :class:`PanelScan` of what
    it counted; errors that depend on the other slices (no ticker found, as_of outside the
    data, no asset kept) are recorded in the scan and raised by :func:`settle_panels`.
    """
    check_columns(data.prices, ("date", "symbol", *fields), "prices")
    scan = PanelScan()
    rows = _slice_rows(data, params, scan, fields, window=window, point_in_time=point_in_time)
    if rows is None:
        return None, scan
    frame, as_of, log = rows
    frame = _drop_bad_rows(frame, fields, scan)
    values, all_dates, symbols = _pivot(frame, fields, scan)
    for symbol in sorted(set(scan.chosen) - set(symbols)):
        log.drop(symbol, "every price row up to as_of is missing or invalid")
    scan.calendar = _digest(all_dates.to_numpy())
    scan.n_dates = len(all_dates)
    if not len(symbols):
        scan.absorb(log)
        return None, scan
    needed_field, needed = _binding_need(min_sessions)
    if len(all_dates) < needed:
        raise ScenarioInputError(
            f"{needed_field} needs {needed} trading sessions up to {as_of.date()}, "
            f"the data has {len(all_dates)}",
            field=needed_field,
        )
    keep = _fill_and_screen(
        values,
        all_dates,
        symbols,
        needed=1 if point_in_time else needed,
        needed_field=needed_field,
        log=log,
        scan=scan,
        keep_delisted=point_in_time,
    )
    scan.absorb(log)
    if not keep.any():
        return None, scan
    if not keep.all():
        dropped_rows = np.isfinite(values[fields[0]][:, ~keep]).sum()
        scan.rows_dropped += int(dropped_rows)
        values = {k: np.ascontiguousarray(v[:, keep]) for k, v in values.items()}
        symbols = symbols[keep]
    scan.kept = len(symbols)
    panel = Panel(as_of=as_of, dates=all_dates, symbols=symbols, values=values, log=QualityLog())
    return panel, scan


def _slice_rows(
    data: ScenarioData,
    params: ScenarioParams,
    scan: PanelScan,
    fields: Sequence[str],
    *,
    window: int | None,
    point_in_time: bool,
) -> tuple[pd.DataFrame, pd.Timestamp, QualityLog] | None:
    """The selected assets' rows in the analysis window (``date, symbol`` + price fields).

    Resolves the slice's as_of, selects its assets and counts the rows that cannot be placed;
    None when the slice has no row up to as_of.
    """
    prices = data.prices
    dates = prices["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce")
    undated = dates.isna().to_numpy()
    if len(dates) and undated.all():
        scan.fail(STAGE_DATES, "no price row has a parseable date", "prices")
        return None
    dated = dates[~undated] if undated.any() else dates
    if dated.empty:
        return None
    scan.first, scan.last = _iso(dated.min()), _iso(dated.max())
    as_of = _slice_as_of(dated, params.as_of)
    if as_of is None:
        return None
    scan.as_of = _iso(as_of)
    in_time = _analysis_rows(dates.to_numpy(), as_of, window)
    if window is not None:
        scan.window = _digest(np.unique(dates.to_numpy()[in_time]))
    symbols_col = prices["symbol"]
    # a row without a symbol cannot be attributed (pivoting it would overwrite another asset)
    unnamed = symbols_col.isna().to_numpy()
    named_in_time = in_time & ~unnamed if unnamed.any() else in_time
    if not pd.api.types.is_string_dtype(symbols_col):
        symbols_col = symbols_col.astype(str)
    available = pd.unique(symbols_col[named_in_time])
    log = QualityLog()
    try:
        chosen = select_symbols(
            [str(s) for s in available],
            data,
            params,
            log,
            as_of=None if point_in_time else as_of,
            missing_tickers=False,
        )
    except SelectionError as error:
        scan.fail(error.stage, str(error), error.field or "universe")
        chosen = []
    scan.chosen = list(chosen)
    scan.requested = log.assets_requested
    mask = named_in_time
    if len(chosen) < len(available):
        mask = named_in_time & symbols_col.isin(chosen).to_numpy()
    _count_unusable_rows(
        symbols_col, chosen, undated=undated, unnamed=unnamed, in_time=in_time, scan=scan
    )
    frame = pd.DataFrame({"date": dates[mask], "symbol": symbols_col[mask]})
    for name in fields:
        column = prices[name][mask]
        if column.dtype != np.float64:
            column = pd.to_numeric(column, errors="coerce").astype("float64")
        frame[name] = column.to_numpy()
    scan.rows_in += len(frame)
    return frame, as_of, log


def settle_panels(scans: Sequence[PanelScan], params: ScenarioParams) -> QualityLog:
    """Check the slices' scans against each other and merge them into one :class:`QualityLog`.

    Raises what :func:`load_panel` of all the assets at once would raise (no price data, as_of
    outside the data, no ticker or member found, no asset kept), and
    :class:`ShardCalendarError` when the slices saw different sessions (their panels would
    differ from the whole panel's, so their results cannot be put together exactly).
    """
    dated = [s for s in scans if s.first is not None]
    if not dated:
        failed = [s.error for s in scans if s.error is not None]
        if failed:
            raise ScenarioInputError(failed[0][1], field=failed[0][2])
        raise ScenarioInputError("no price data for the selected assets", field="universe")
    if params.as_of is not None:
        first = min(str(s.first) for s in dated)
        last = max(str(s.last) for s in dated)
        wanted = pd.Timestamp(params.as_of).date().isoformat()
        if not first <= wanted <= last:
            raise ScenarioInputError(
                f"as_of {wanted} is outside the data ({first} to {last})", field="as_of"
            )
    if not any(s.chosen for s in scans):
        errors = [s.error for s in scans if s.error is not None]
        if not errors:
            raise ScenarioInputError("no price data for the selected assets", field="universe")
        _stage, message, field = max(errors, key=lambda e: e[0])
        raise ScenarioInputError(message, field=field)
    _check_calendars(scans)
    log = merge_scans(scans, params)
    if not any(s.kept for s in scans):
        field = "tickers" if params.tickers else "universe"
        raise ScenarioInputError(
            "no asset has usable price history up to as_of: "
            + "; ".join(f"{s}: {r}" for s, r in sorted(log.dropped.items())[:5]),
            field=field,
        )
    return log


def _check_calendars(scans: Sequence[PanelScan]) -> None:
    as_ofs = sorted({str(s.as_of) for s in scans if s.as_of is not None})
    windows = {s.window for s in scans if s.as_of is not None}
    calendars = {s.calendar for s in scans if s.n_dates}
    if len(as_ofs) > 1 or len(windows) > 1 or len(calendars) > 1:
        raise ShardCalendarError(
            "the shards saw different trading sessions "
            f"(as_of {', '.join(as_ofs)}; {len(calendars)} calendars): run the single worker"
        )


def merge_scans(scans: Sequence[PanelScan], params: ScenarioParams) -> QualityLog:
    """One log for all the slices, its notes in the order one whole-panel load writes them."""
    log = QualityLog()
    chosen = {symbol for s in scans for symbol in s.chosen}
    if params.tickers:
        log.assets_requested = len(params.tickers)
        for ticker in params.tickers:
            if ticker not in chosen and not any(ticker in s.dropped for s in scans):
                log.drop(ticker, MISSING_TICKER)
    else:
        log.assets_requested = sum(s.requested for s in scans)
    for scan in scans:
        log.rows_in += scan.rows_in
        log.rows_dropped += scan.rows_dropped
        for symbol, reason in scan.dropped.items():
            log.drop(symbol, reason)
    undated = _summed(s.undated for s in scans)
    if undated:
        n = sum(undated.values())
        log.note(f"{n} rows with a missing or unparseable date dropped ({symbol_list(undated)})")
    unnamed = sum(s.unnamed for s in scans)
    if unnamed:
        log.note(f"{unnamed} rows without a symbol dropped")
    bad = _summed(s.bad for s in scans)
    if bad:
        n = sum(bad.values())
        log.note(
            f"{n} rows with missing, non-numeric or non-positive prices dropped "
            f"({symbol_list(bad)})"
        )
    duplicates = sum(s.duplicates for s in scans)
    if duplicates:
        log.note(f"{duplicates} duplicate (date, symbol) rows dropped (kept the last)")
    for symbol, day in sorted(pair for s in scans for pair in s.stopped):
        log.note(f"{symbol} stopped trading: last price {day}")
    filled = sum(s.filled for s in scans)
    if filled:
        log.note(f"{filled} missing sessions (halts, missing rows) forward-filled from last close")
    return log


def _summed(tallies: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for tally in tallies:
        for symbol, count in tally.items():
            total[symbol] = total.get(symbol, 0) + count
    return total


def _iso(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def _slice_as_of(dates: pd.Series, requested: object) -> pd.Timestamp | None:
    """This slice's last date ``<= requested`` (its last date by default), None if none.

    Whether ``requested`` lies inside the data is decided over all slices (settle_panels).
    """
    if requested is None:
        return pd.Timestamp(dates.max())
    wanted = pd.Timestamp(requested)  # type: ignore[arg-type]
    before = dates[dates <= wanted]
    return None if before.empty else pd.Timestamp(before.max())


def _digest(dates: np.ndarray) -> str:
    """A fingerprint of a sorted array of sessions."""
    return hashlib.sha256(dates.astype("datetime64[ns]").astype(np.int64).tobytes()).hexdigest()


def _analysis_rows(dates: np.ndarray, as_of: pd.Timestamp, window: int | None) -> np.ndarray:
    """Mask of the rows dated in the last ``window`` sessions up to ``as_of``."""
    cutoff = np.datetime64(as_of.to_datetime64())
    mask = dates <= cutoff
    if window is not None:
        sessions = np.sort(pd.unique(dates[mask]))
        if len(sessions) > window:
            mask &= dates >= sessions[-window]
    return mask  # type: ignore[no-any-return]


def _count_unusable_rows(
    symbols: pd.Series,
    chosen: Sequence[str],
    *,
    undated: np.ndarray,
    unnamed: np.ndarray,
    in_time: np.ndarray,
    scan: PanelScan,
) -> None:
    """Count rows that cannot be placed on the panel: no parseable date, or no symbol.

    A row without a date cannot be placed relative to ``as_of``; it is counted (in ``rows_in``
    and ``rows_dropped``) when its asset is selected, so the tally is the same whatever the
    date would have been. A row without a symbol is counted when it lies in the analysis
    window (or has no date either).
    """
    undated_symbols = symbols[undated & ~unnamed]
    undated_symbols = undated_symbols[undated_symbols.isin(chosen).to_numpy()]
    n_dates = len(undated_symbols)
    if n_dates:
        counts = undated_symbols.value_counts()
        scan.rows_in += n_dates
        scan.rows_dropped += n_dates
        scan.undated = {str(k): int(v) for k, v in counts.items()}
    if not unnamed.any():
        return
    n_names = int((unnamed & (in_time | undated)).sum())
    scan.rows_in += n_names
    scan.rows_dropped += n_names
    scan.unnamed = n_names


def _binding_need(min_sessions: Mapping[str, int] | None) -> tuple[str, int]:
    if not min_sessions:
        return "as_of", 1
    name = max(sorted(min_sessions), key=lambda k: min_sessions[k])
    return name, max(1, int(min_sessions[name]))


def _drop_bad_rows(frame: pd.DataFrame, fields: Sequence[str], scan: PanelScan) -> pd.DataFrame:
    bad = np.zeros(len(frame), dtype=bool)
    for name in fields:
        column = frame[name].to_numpy()
        floor_ok = column >= 0 if name == "volume" else column > 0
        bad |= ~(np.isfinite(column) & floor_ok)
    if bad.any():
        counts = frame["symbol"][bad].value_counts()
        scan.rows_dropped += int(bad.sum())
        scan.bad = {str(k): int(v) for k, v in counts.items()}
        frame = frame[~bad]
    return frame


def _pivot(
    frame: pd.DataFrame, fields: Sequence[str], scan: PanelScan
) -> tuple[dict[str, np.ndarray], pd.DatetimeIndex, pd.Index]:
    """Scatter the long rows into ``(T, N)`` arrays (factorize + fancy index, no pandas pivot).

    Duplicate ``(date, symbol)`` rows keep the last one and are counted.
    """
    date_codes, date_uniques = pd.factorize(frame["date"], sort=True)
    symbol_codes, symbol_uniques = pd.factorize(frame["symbol"], sort=True)
    shape = (len(date_uniques), len(symbol_uniques))
    cell = date_codes.astype(np.int64) * shape[1] + symbol_codes
    rows = slice(None)
    if len(cell) and np.bincount(cell, minlength=shape[0] * shape[1]).max() > 1:
        last = np.full(shape[0] * shape[1], -1, dtype=np.int64)
        np.maximum.at(last, cell, np.arange(len(cell)))
        keep = last[cell] == np.arange(len(cell))
        duplicates = int((~keep).sum())
        scan.rows_dropped += duplicates
        scan.duplicates = duplicates
        rows = keep  # type: ignore[assignment]
    values = {}
    for name in fields:
        out = np.full(shape, np.nan)
        out[date_codes[rows], symbol_codes[rows]] = frame[name].to_numpy()[rows]
        values[name] = out
    symbols = pd.Index(np.asarray(symbol_uniques, dtype=object).astype(str), name="symbol")
    return values, pd.DatetimeIndex(date_uniques, name="date"), symbols


def _fill_and_screen(
    values: dict[str, np.ndarray],
    dates: pd.DatetimeIndex,
    symbols: pd.Index,
    *,
    needed: int,
    needed_field: str,
    log: QualityLog,
    scan: PanelScan,
    keep_delisted: bool = False,
) -> np.ndarray:
    """Forward-fill gaps in place; return the mask of assets to keep.

    With ``keep_delisted`` an asset that stopped trading is kept, NaN after its last price.
    """
    anchor = values["close"] if "close" in values else next(iter(values.values()))
    valid = np.isfinite(anchor)
    n_dates, _ = anchor.shape
    rows = np.arange(n_dates)[:, None]
    last_seen = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    first = np.where(valid.any(axis=0), valid.argmax(axis=0), n_dates)
    last = last_seen[-1]
    listed = rows >= first[None, :]
    gaps = listed & ~valid
    keep = np.ones(anchor.shape[1], dtype=bool)
    stale = last < n_dates - 1 - MAX_STALE_SESSIONS
    if keep_delisted:
        listed &= rows <= np.where(stale, last, n_dates - 1)[None, :]
        gaps = listed & ~valid
        for j in np.flatnonzero(stale & (last >= 0)):
            scan.stopped.append((str(symbols[j]), dates[last[j]].date().isoformat()))
        stale = np.zeros_like(stale)
    for j in np.flatnonzero(stale):
        log.drop(str(symbols[j]), f"halted or delisted: last price {dates[last[j]].date()}")
    keep &= ~stale
    history = n_dates - first
    short = keep & (history < needed)
    for j in np.flatnonzero(short):
        log.drop(
            str(symbols[j]),
            f"only {int(history[j])} sessions of history, {needed_field} needs {needed}",
        )
    keep &= ~short
    # only kept assets are filled: a dropped asset's cells stay its real rows, as counted
    gaps &= keep[None, :]
    filled = int(gaps.sum())
    if filled:
        scan.filled = filled
        source = np.where(listed, last_seen, 0)
        cols = np.arange(anchor.shape[1])[None, :]
        close_filled = np.where(listed, anchor[source, cols], np.nan)
        for name, array in values.items():
            if name == "volume":
                array[gaps] = 0.0
            else:
                array[gaps] = close_filled[gaps]
    return keep
