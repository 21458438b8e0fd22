"""Read the lake for a scenario: only the snapshots, partitions and rows it needs.

The worker calls :func:`check_readiness` (reported as a ``progress`` event), then
:func:`load_scenario_data`, and stores the returned ``{dataset: snapshot_id}`` in the run
manifest so the same run can be reproduced on the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import pandas as pd

from quantdesk.datalake import columnar
from quantdesk.datalake.columnar import canonical
from quantdesk.datalake.errors import DatasetNotFoundError
from quantdesk.datalake.layout import layout, raw_key, symbol_bucket, wanted_partition
from quantdesk.datalake.models import (
    DatasetReadiness,
    ReadinessReport,
    SnapshotManifest,
    SnapshotRecord,
)
from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
from quantdesk.datalake.snapshot_files import load_manifest, read_file
from quantdesk.settings import Settings, get_settings
from scenarios.base import FUNDAMENTALS_LOOKBACK_DAYS, ScenarioData
from scenarios.frames import SPLITS

#: macro reference periods this many days before ``start`` are included: a value dated before the
#: window (CPI for the previous month) is released, and in force, inside it
MACRO_LOOKBACK_DAYS: Final = 100
#: data whose last date is older than this (calendar days) is reported stale
STALE_AFTER_DAYS: Final = 5
IO_THREADS: Final = 8
SCENARIO_DATASETS: Final = ("prices", "fundamentals", "earnings", "macro", "sentiment", "sectors")
#: the raw-zone extra in which a price source reports splits and dividends
CORPORATE_ACTIONS: Final = "corporate_actions"


@dataclass(frozen=True)
class Lake:
    """The two repositories the reader needs."""

    store: LakeObjectStore
    snapshots: SnapshotRepository

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Lake:
        settings = settings or get_settings()
        return cls(LakeObjectStore(settings.data_bucket), SnapshotRepository(settings.table_name))


@dataclass(frozen=True)
class _Snapshot:
    record: SnapshotRecord
    manifest: SnapshotManifest


def _snapshot(lake: Lake, dataset: str) -> _Snapshot | None:
    record = lake.snapshots.latest(dataset)
    if record is None:
        return None
    return _Snapshot(record, load_manifest(lake.store, record))


def _require(lake: Lake, dataset: str, snapshot_id: str | None = None) -> _Snapshot:
    """The latest snapshot of ``dataset``, or the one ``snapshot_id`` names (a pinned read)."""
    if snapshot_id is None:
        snap = _snapshot(lake, dataset)
    else:
        record = lake.snapshots.get(dataset, snapshot_id)
        snap = _Snapshot(record, load_manifest(lake.store, record)) if record else None
    if snap is None:
        raise DatasetNotFoundError(dataset)
    return snap


def read_partitions(
    lake: Lake,
    dataset: str,
    manifest: SnapshotManifest,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    symbols: set[str] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Rows of the partitions a [start, end] x symbols read needs, and how many files it read.

    Only pruning by partition happens here; callers filter rows.
    """

    buckets = {symbol_bucket(s) for s in symbols} if symbols is not None else None
    files = [
        f
        for f in manifest.files
        if wanted_partition(dataset, f.partition, start=start, end=end, buckets=buckets)
    ]
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        frames = list(pool.map(lambda f: read_file(lake.store, dataset, f), files))
    if not frames:
        empty = pd.DataFrame({c: [] for c in layout(dataset).columns})
        return canonical(dataset, empty), 0
    return pd.concat(frames, ignore_index=True), len(files)


def universe_members(universe_frame: pd.DataFrame, universe: str, as_of: dt.date) -> list[str]:
    """Symbols that belong to ``universe`` on ``as_of`` (membership intervals, end exclusive)."""

    day = pd.Timestamp(as_of)
    rows = universe_frame[universe_frame["universe"] == universe]
    active = (rows["start_date"] <= day) & (rows["end_date"].isna() | (rows["end_date"] > day))
    return sorted(rows.loc[active, "symbol"].unique().tolist())


def members_between(
    universe_frame: pd.DataFrame, universe: str, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Membership rows of ``universe`` whose interval meets ``[start, end]`` (end exclusive).

    Every symbol that belonged to the universe at any time in the window, with its interval,
    so a scenario can tell who was a member on each date it analyses (no survivorship).
    """

    rows = universe_frame[universe_frame["universe"] == universe]
    meets = (rows["start_date"] <= pd.Timestamp(end)) & (
        rows["end_date"].isna() | (rows["end_date"] > pd.Timestamp(start))
    )
    return rows[meets].sort_values(["symbol", "start_date"], kind="stable").reset_index(drop=True)


def _between(frame: pd.DataFrame, column: str, start: dt.date | None, end: dt.date) -> pd.Series:
    mask = frame[column] <= pd.Timestamp(end)
    if start is not None:
        mask &= frame[column] >= pd.Timestamp(start)
    return mask


def _restrict(
    dataset: str, frame: pd.DataFrame, symbols: set[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    spec = layout(dataset)
    mask = frame["symbol"].isin(symbols) if spec.has_symbol else None
    if dataset == "fundamentals":
        lookback = start - dt.timedelta(days=FUNDAMENTALS_LOOKBACK_DAYS)
        window = _between(frame, "report_date", lookback, end)
    elif dataset == "macro":
        window = _between(frame, "date", start - dt.timedelta(days=MACRO_LOOKBACK_DAYS), end)
    elif spec.date_column is not None:
        window = _between(frame, spec.date_column, start, end)
    else:
        window = None
    if window is not None:
        mask = window if mask is None else mask & window
    out = frame if mask is None else frame[mask]
    # the canonical panel order of scenarios.frames: date-major for daily per-symbol data
    order = ["date", "symbol"] if spec.keys == ("symbol", "date") else list(spec.keys)
    return out.sort_values(order, kind="stable").reset_index(drop=True)


def resolve_symbols(
    lake: Lake, universe: str, tickers: list[str] | None, as_of: dt.date
) -> tuple[list[str], str | None]:
    """The requested symbols and the universe snapshot id used (None for explicit tickers)."""
    if tickers:
        return sorted(set(tickers)), None
    snap = _require(lake, "universe")
    frame, _ = read_partitions(lake, "universe", snap.manifest)
    return universe_members(frame, universe, as_of), snap.record.snapshot_id


def _membership(
    lake: Lake, universe: str, start: dt.date, end: dt.date, snapshot_id: str | None = None
) -> tuple[pd.DataFrame, str]:
    snap = _require(lake, "universe", snapshot_id)
    frame, _ = read_partitions(lake, "universe", snap.manifest)
    return members_between(frame, universe, start, end), snap.record.snapshot_id


@dataclass(frozen=True)
class _Selection:
    """What a scenario read selects: the snapshots, the symbols and the window's end."""

    snaps: dict[str, _Snapshot]
    #: ``{dataset: snapshot_id}`` of every snapshot read, the universe's included
    read: dict[str, str]
    symbols: list[str]
    #: the membership intervals (None for explicit tickers)
    membership: pd.DataFrame | None
    as_of: dt.date


def _select(
    lake: Lake,
    wanted: list[str],
    *,
    universe: str,
    tickers: list[str] | None,
    start: dt.date,
    end: dt.date | None,
    pinned: dict[str, str],
) -> _Selection:
    snaps = {d: _require(lake, d, pinned.get(d)) for d in wanted}
    read = {d: s.record.snapshot_id for d, s in snaps.items()}
    as_of = end or snaps["prices"].manifest.coverage.max_date or start
    if tickers:
        return _Selection(snaps, read, sorted(set(tickers)), None, as_of)
    membership, read["universe"] = _membership(lake, universe, start, as_of, pinned.get("universe"))
    return _Selection(snaps, read, sorted(set(membership["symbol"])), membership, as_of)


def _wanted(datasets: Sequence[str]) -> list[str]:
    return ["prices", *[d for d in datasets if d != "prices"]]


def scenario_symbols(
    datasets: Sequence[str],
    *,
    universe: str,
    tickers: list[str] | None,
    start: dt.date,
    end: dt.date | None,
    lake: Lake | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The symbols :func:`load_scenario_data` would load, and the snapshot ids it would read
    now (``{dataset: snapshot_id}``, the universe's included): a sharded run's plan pins them
    so every shard reads the same data."""
    lake = lake or Lake.from_settings()
    selection = _select(
        lake,
        _wanted(datasets),
        universe=universe,
        tickers=tickers,
        start=start,
        end=end,
        pinned={},
    )
    return selection.symbols, selection.read


def load_scenario_data(
    datasets: Sequence[str],
    *,
    universe: str,
    tickers: list[str] | None,
    start: dt.date,
    end: dt.date | None,
    lake: Lake | None = None,
    pinned: dict[str, str] | None = None,
    only_symbols: set[str] | None = None,
) -> tuple[ScenarioData, dict[str, str]]:
    """The frames a scenario reads, and ``{dataset: snapshot_id}`` of every snapshot read.

    ``prices`` is always loaded: restricted to ``tickers`` (when given) or to every symbol that
    was a member of ``universe`` at any time in ``[start, end]`` (``end`` defaults to the last
    price date), and to ``[start, end]``; the membership intervals come along as
    ``ScenarioData.universe`` so scenarios pick the members of each date. The other
    datasets are restricted alike (fundamentals keep ``FUNDAMENTALS_LOOKBACK_DAYS`` of reports
    and macro ``MACRO_LOOKBACK_DAYS`` of reference periods before ``start`` so as-of values
    exist). Only the partitions covering those years and
    symbol buckets are fetched. Raises :class:`DatasetNotFoundError` for a dataset never
    ingested.

    A shard of a sharded run reads the snapshots the run's plan ``pinned`` (``{dataset:
    snapshot_id}``, so every shard sees the same data) and the per-asset datasets of
    ``only_symbols`` alone (an empty set: none, the reduce step's context); the membership
    intervals, sectors and macro stay whole.
    """
    lake = lake or Lake.from_settings()
    wanted = _wanted(datasets)
    unknown = [d for d in wanted if d not in SCENARIO_DATASETS]
    if unknown:
        raise ValueError(f"not scenario datasets: {unknown}")
    selection = _select(
        lake,
        wanted,
        universe=universe,
        tickers=tickers,
        start=start,
        end=end,
        pinned=pinned or {},
    )
    as_of = selection.as_of
    wanted_symbols = set(selection.symbols)
    # a shard's assets: the per-asset datasets are read for them alone (partition pruning)
    asset_symbols = wanted_symbols if only_symbols is None else wanted_symbols & only_symbols
    frames: dict[str, pd.DataFrame] = {}
    for dataset, snap in selection.snaps.items():
        spec = layout(dataset)
        restrict_to = wanted_symbols if dataset == "sectors" else asset_symbols
        window_start = start
        if dataset == "fundamentals":
            window_start = start - dt.timedelta(days=FUNDAMENTALS_LOOKBACK_DAYS)
        elif dataset == "macro":
            window_start = start - dt.timedelta(days=MACRO_LOOKBACK_DAYS)
        frame, _ = read_partitions(
            lake,
            dataset,
            snap.manifest,
            start=window_start,
            end=as_of,
            symbols=restrict_to if spec.has_symbol else None,
        )
        frames[dataset] = _restrict(dataset, frame, restrict_to, start, as_of)
    data = ScenarioData(
        prices=frames["prices"],
        fundamentals=frames.get("fundamentals"),
        earnings=frames.get("earnings"),
        macro=frames.get("macro"),
        sentiment=frames.get("sentiment"),
        sectors=frames.get("sectors"),
        universe=selection.membership,
        splits=load_splits(lake, asset_symbols) if "fundamentals" in frames else None,
    )
    return data, selection.read


def load_splits(lake: Lake, symbols: set[str]) -> pd.DataFrame | None:
    """Share splits of ``symbols`` that the price sources reported as corporate actions.

    Read from the raw zone of every ingestion run behind a prices snapshot (a source's
    ``corporate_actions`` extra: ``symbol, date, action, ratio``); the fundamental factors
    use them to put as-reported share counts on the split-adjusted price basis. None when no
    source reported any.
    """
    frames = []
    for record in lake.snapshots.history("prices"):
        for source in record.sources if record.run_id else []:
            key = raw_key(source, str(record.run_id), CORPORATE_ACTIONS)
            if lake.store.exists(key):
                frames.append(columnar.decode(lake.store.get_bytes(key)))
    actions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if actions.empty or not set(SPLITS) | {"action"} <= set(actions.columns):
        return None
    splits = actions[(actions["action"] == "split") & actions["symbol"].isin(symbols)]
    splits = splits[list(SPLITS)].drop_duplicates(["symbol", "date"], keep="last")
    return splits.reset_index(drop=True) if len(splits) else None


def _dataset_readiness(
    dataset: str, snap: _Snapshot | None, symbols: set[str] | None, today: dt.date
) -> DatasetReadiness:
    if snap is None:
        return DatasetReadiness(dataset=dataset, status="missing", note="never ingested")
    coverage = snap.manifest.coverage
    age = (today - coverage.max_date).days if coverage.max_date else None
    covered = None
    status: str = "ok"
    note = ""
    if symbols is not None and layout(dataset).has_symbol:
        covered = len(symbols & set(snap.manifest.symbols))
        if covered < len(symbols):
            status, note = "partial", f"{len(symbols) - covered} of {len(symbols)} symbols absent"
    if age is not None and age > STALE_AFTER_DAYS and dataset not in ("sectors", "universe"):
        status = "stale" if status == "ok" else status
        note = "; ".join(filter(None, [note, f"last date {coverage.max_date} ({age} days old)"]))
    return DatasetReadiness(
        dataset=dataset,
        snapshot_id=snap.record.snapshot_id,
        synthetic=snap.manifest.synthetic,
        first_date=coverage.min_date,
        last_date=coverage.max_date,
        age_days=age,
        symbols_covered=covered,
        status=status,  # type: ignore[arg-type]
        note=note,
    )


def check_readiness(
    datasets: Sequence[str],
    *,
    universe: str,
    tickers: list[str] | None,
    start: dt.date,
    end: dt.date | None,
    today: dt.date | None = None,
    lake: Lake | None = None,
) -> ReadinessReport:
    """Whether the lake can answer a scenario: datasets present, symbols and dates covered.

    Cheap: reads snapshot records, manifests and (without ``tickers``) the universe dataset.
    ``ready`` is False when a dataset is missing, no requested symbol has prices, or the
    window lies outside the price history; staleness alone is reported, not blocking.
    """
    lake = lake or Lake.from_settings()
    today = today or dt.datetime.now(dt.UTC).date()
    wanted = ["prices", *[d for d in datasets if d != "prices"]]
    snaps = {d: _snapshot(lake, d) for d in wanted}
    missing = [d for d, s in snaps.items() if s is None]
    prices = snaps["prices"]
    last = prices.manifest.coverage.max_date if prices else None
    first = prices.manifest.coverage.min_date if prices else None
    as_of = end or last or start
    symbols: set[str] | None = set(tickers) if tickers else None
    problems: list[str] = []
    if symbols is None:
        if _snapshot(lake, "universe") is None:
            missing.append("universe")
        else:
            symbols = set(resolve_symbols(lake, universe, None, as_of)[0])
            if not symbols:
                problems.append(f"universe {universe} has no members on {as_of}")
    reports = [_dataset_readiness(d, s, symbols, today) for d, s in snaps.items()]
    covered = len(symbols & set(prices.manifest.symbols)) if prices and symbols else 0
    absent = sorted(symbols - set(prices.manifest.symbols)) if prices and symbols else []
    if missing:
        problems.append(f"missing datasets: {', '.join(missing)} (run `quantdesk ingest`)")
    if prices and symbols and covered == 0:
        problems.append("none of the requested symbols has prices")
    if last is not None and start > last:
        problems.append(f"start {start} is after the last price date {last}")
    if first is not None and as_of < first:
        problems.append(f"end {as_of} is before the first price date {first}")
    ready = not problems
    snapshot_ids = {r.dataset: r.snapshot_id for r in reports if r.snapshot_id}
    message = _message(
        ready, problems=problems, reports=reports, covered=covered, symbols=symbols, absent=absent
    )
    return ReadinessReport(
        ready=ready,
        universe=universe,
        start=start,
        end=end,
        symbols_requested=len(symbols or ()),
        symbols_covered=covered,
        missing_symbols=absent[:10],
        missing_datasets=missing,
        datasets=reports,
        snapshots=snapshot_ids,
        message=message,
    )


def _message(
    ready: bool,
    *,
    problems: list[str],
    reports: list[DatasetReadiness],
    covered: int,
    symbols: set[str] | None,
    absent: list[str],
) -> str:
    if not ready:
        return "Data not ready: " + "; ".join(problems) + "."
    parts = [f"Data ready: {covered}/{len(symbols or ())} symbols with prices"]
    if absent:
        parts.append(f"missing {', '.join(absent[:5])}{'…' if len(absent) > 5 else ''}")
    notes = [f"{r.dataset} {r.note}" for r in reports if r.status != "ok" and r.note]
    parts.extend(notes)
    if any(r.synthetic for r in reports):
        parts.append("SYNTHETIC sample data")
    return "; ".join(parts) + "."
