"""Writer + reader over moto: snapshots, idempotency, pruning, universe slices."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from quantdesk.datalake import columnar, reader
from quantdesk.datalake.errors import (
    DatasetNotFoundError,
    LakeStorageError,
    SnapshotConflictError,
)
from quantdesk.datalake.layout import symbol_bucket
from quantdesk.datalake.reader import Lake, check_readiness, load_scenario_data
from quantdesk.datalake.snapshot_files import FRAME_CACHE, load_manifest, read_file
from quantdesk.datalake.writer import publish_snapshot, stage_snapshot
from quantdesk.ingestion.pipeline import IngestionContext
from scenarios.base import ScenarioParams
from scenarios.panel import load_panel

NOW = dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC)


def _prices(symbols: list[str], start: str, days: int, base: float = 10.0) -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=days)
    rows = [
        {
            "date": d,
            "symbol": s,
            "open": base + i,
            "high": base + i + 1,
            "low": base + i - 1,
            "close": base + i + 0.5,
            "volume": 1000.0,
        }
        for s in symbols
        for i, d in enumerate(dates)
    ]
    return pd.DataFrame(rows)


def _universe(members: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"universe": u, "symbol": s, "start_date": pd.Timestamp("2020-01-01"), "end_date": pd.NaT}
        for u, symbols in members.items()
        for s in symbols
    ]
    return pd.DataFrame(rows)


def _ingest(ctx: IngestionContext, dataset: str, frame: pd.DataFrame) -> str | None:
    staged = stage_snapshot(ctx.store, ctx.snapshots, dataset, frame, sources=["test"])
    record = publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r1", now=ctx.clock())
    return record.snapshot_id if record else None


def test_publish_then_read_round_trips_canonical_frame(ctx: IngestionContext, lake: Lake) -> None:
    # Given prices and a universe in the lake
    frame = _prices(["AAA", "BBB"], "2024-12-20", 10)
    prices_id = _ingest(ctx, "prices", frame)
    universe_id = _ingest(ctx, "universe", _universe({"us_large_cap": ["AAA", "BBB"]}))
    # When the whole range is read
    data, snapshots = load_scenario_data(
        ["prices"],
        universe="us_large_cap",
        tickers=None,
        start=dt.date(2024, 1, 1),
        end=None,
        lake=lake,
    )
    # Then the frame is the input, canonical, and the snapshots read are reported
    expected = frame.sort_values(["date", "symbol"]).reset_index(drop=True)
    expected["date"] = expected["date"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(data.prices, expected, check_dtype=False)
    assert data.prices["date"].dtype == "datetime64[ns]"
    assert list(data.prices.columns) == ["date", "symbol", "open", "high", "low", "close", "volume"]
    assert snapshots == {"prices": prices_id, "universe": universe_id}


def test_same_batch_twice_adds_no_rows_and_no_snapshot(ctx: IngestionContext) -> None:
    frame = _prices(["AAA"], "2024-01-02", 5)
    first = _ingest(ctx, "prices", frame)
    # When the identical batch is staged again
    staged = stage_snapshot(ctx.store, ctx.snapshots, "prices", frame, sources=["test"])
    # Then nothing changes and nothing is published
    assert not staged.changed
    assert publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r2", now=NOW) is None
    assert [r.snapshot_id for r in ctx.snapshots.history("prices")] == [first]


def test_overlapping_batch_replaces_by_key_and_adds_new(ctx: IngestionContext) -> None:
    _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 5))
    update = _prices(["AAA"], "2024-01-05", 4, base=50.0)  # 2 overlapping days + 2 new
    staged = stage_snapshot(ctx.store, ctx.snapshots, "prices", update, sources=["test"])
    assert (staged.rows_added, staged.rows_replaced) == (2, 2)
    record = publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r2", now=ctx.clock())
    assert record is not None and record.row_count == 7
    assert record.parent_id == ctx.snapshots.history("prices")[0].snapshot_id


def test_snapshots_are_immutable_and_old_ones_stay_readable(ctx: IngestionContext) -> None:
    first = _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 3))
    _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 3, base=99.0))
    old = ctx.snapshots.get("prices", first or "")
    assert old is not None and old.row_count == 3
    manifest = reader.load_manifest(ctx.store, old)
    frame, _ = reader.read_partitions(Lake(ctx.store, ctx.snapshots), "prices", manifest)
    assert frame["open"].iloc[0] == 10.0  # the original values, not the replacement


def test_concurrent_publish_loses_the_optimistic_lock(ctx: IngestionContext) -> None:
    _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 3))
    a = stage_snapshot(
        ctx.store, ctx.snapshots, "prices", _prices(["BBB"], "2024-01-02", 3), sources=["a"]
    )
    b = stage_snapshot(
        ctx.store, ctx.snapshots, "prices", _prices(["CCC"], "2024-01-02", 3), sources=["b"]
    )
    publish_snapshot(ctx.store, ctx.snapshots, a, run_id="a", now=ctx.clock())
    with pytest.raises(SnapshotConflictError):
        publish_snapshot(ctx.store, ctx.snapshots, b, run_id="b", now=ctx.clock())


def test_universe_date_slice_touches_only_needed_partitions(
    ctx: IngestionContext, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 3 years of prices for 40 symbols, 4 of them in a small universe
    symbols = [f"S{i:02d}" for i in range(40)]
    _ingest(ctx, "prices", _prices(symbols, "2022-01-03", 760))
    small = symbols[:4]
    _ingest(ctx, "universe", _universe({"us_small_cap": small, "us_all": symbols}))
    fetched: list[str] = []
    original = ctx.store.get_bytes
    monkeypatch.setattr(ctx.store, "get_bytes", lambda key: fetched.append(key) or original(key))
    # When one universe over one year is read
    data, _ = load_scenario_data(
        ["prices"],
        universe="us_small_cap",
        tickers=None,
        start=dt.date(2023, 3, 1),
        end=dt.date(2023, 6, 30),
        lake=lake,
    )
    # Then only that year's buckets of those symbols were fetched
    parts = [k for k in fetched if k.startswith("lake/prices/")]
    buckets = {symbol_bucket(s) for s in small}
    assert len(parts) == len(buckets)
    assert all("year=2023" in k for k in parts)
    assert sorted(data.prices["symbol"].unique()) == small
    assert data.prices["date"].min() >= pd.Timestamp("2023-03-01")
    assert data.prices["date"].max() <= pd.Timestamp("2023-06-30")


def test_universe_members_of_the_window_come_with_their_intervals(
    ctx: IngestionContext, lake: Lake
) -> None:
    _ingest(ctx, "prices", _prices(["OLD", "NEW"], "2024-01-02", 60))
    membership = pd.DataFrame(
        {
            "universe": ["us_mid_cap", "us_mid_cap"],
            "symbol": ["OLD", "NEW"],
            "start_date": pd.to_datetime(["2020-01-01", "2024-02-01"]),
            "end_date": pd.to_datetime(["2024-02-01", None]),
        }
    )
    _ingest(ctx, "universe", membership)
    january, _ = load_scenario_data(
        ["prices"],
        universe="us_mid_cap",
        tickers=None,
        start=dt.date(2024, 1, 2),
        end=dt.date(2024, 1, 20),
        lake=lake,
    )
    march, read = load_scenario_data(
        ["prices"],
        universe="us_mid_cap",
        tickers=None,
        start=dt.date(2024, 1, 2),
        end=dt.date(2024, 3, 1),
        lake=lake,
    )
    # a window before NEW joined reads OLD only; a window across the change reads both, with
    # their intervals, and a scenario on its last day sees only the member of that day
    assert set(january.prices["symbol"]) == {"OLD"}
    assert set(march.prices["symbol"]) == {"OLD", "NEW"}
    assert march.universe is not None
    intervals = march.universe.sort_values("symbol")
    assert intervals["symbol"].tolist() == ["NEW", "OLD"]
    assert intervals["end_date"].tolist()[1] == pd.Timestamp("2024-02-01")
    assert pd.isna(intervals["end_date"].tolist()[0])
    assert "universe" in read
    panel = load_panel(march, ScenarioParams(universe="us_mid_cap"))
    assert panel.symbols.tolist() == ["NEW"]


def test_tickers_override_universe(ctx: IngestionContext, lake: Lake) -> None:
    _ingest(ctx, "prices", _prices(["AAA", "BBB", "CCC"], "2024-01-02", 5))
    data, snapshots = load_scenario_data(
        ["prices"],
        universe="us_all",
        tickers=["BBB"],
        start=dt.date(2024, 1, 1),
        end=None,
        lake=lake,
    )
    assert set(data.prices["symbol"]) == {"BBB"}
    assert "universe" not in snapshots


def test_missing_dataset_raises_a_clear_error(ctx: IngestionContext, lake: Lake) -> None:
    with pytest.raises(DatasetNotFoundError, match="quantdesk ingest"):
        load_scenario_data(
            ["prices"],
            universe="us_all",
            tickers=["AAA"],
            start=dt.date(2024, 1, 1),
            end=None,
            lake=lake,
        )


def test_readiness_reports_missing_datasets_and_symbols(ctx: IngestionContext, lake: Lake) -> None:
    _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 5))
    report = check_readiness(
        ["prices", "fundamentals"],
        universe="us_all",
        tickers=["AAA", "ZZZ"],
        start=dt.date(2024, 1, 1),
        end=None,
        today=dt.date(2024, 1, 9),
        lake=lake,
    )
    assert not report.ready
    assert report.missing_datasets == ["fundamentals"]
    assert report.symbols_covered == 1 and report.missing_symbols == ["ZZZ"]
    assert "fundamentals" in report.message


def test_readiness_ok_but_stale_is_reported_not_blocking(ctx: IngestionContext, lake: Lake) -> None:
    _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 5))
    report = check_readiness(
        ["prices"],
        universe="us_all",
        tickers=["AAA"],
        start=dt.date(2024, 1, 1),
        end=None,
        today=dt.date(2024, 3, 1),
        lake=lake,
    )
    assert report.ready
    assert report.datasets[0].status == "stale"
    assert "days old" in report.message


def test_a_failed_publish_leaves_readers_on_the_previous_snapshot(
    ctx: IngestionContext, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published snapshot and a staged change
    first = _ingest(ctx, "prices", _prices(["AAA"], "2024-01-02", 3))
    staged = stage_snapshot(
        ctx.store, ctx.snapshots, "prices", _prices(["BBB"], "2024-01-02", 3), sources=["t"]
    )

    # When the DynamoDB transaction fails after the files and manifest were written
    def refuse(*_: object) -> None:
        raise LakeStorageError("throttled")

    monkeypatch.setattr(ctx.snapshots, "publish", refuse)
    with pytest.raises(LakeStorageError):
        publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r", now=ctx.clock())
    # Then nothing half-written is visible: readers still get the first snapshot, whole
    data, snapshots = load_scenario_data(
        ["prices"],
        universe="us_all",
        tickers=["AAA", "BBB"],
        start=dt.date(2024, 1, 1),
        end=None,
        lake=lake,
    )
    assert snapshots["prices"] == first
    assert set(data.prices["symbol"]) == {"AAA"}


def test_a_warm_reader_reuses_immutable_partition_files(
    ctx: IngestionContext, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(ctx, "prices", _prices(["AAA", "BBB"], "2024-01-02", 5))
    args = {"universe": "us_all", "tickers": ["AAA"], "start": dt.date(2024, 1, 1), "end": None}
    first, _ = load_scenario_data(["prices"], **args, lake=lake)
    fetched: list[str] = []
    original = ctx.store.get_bytes
    monkeypatch.setattr(ctx.store, "get_bytes", lambda key: fetched.append(key) or original(key))
    second, _ = load_scenario_data(["prices"], **args, lake=lake)
    assert not [k for k in fetched if k.startswith("lake/")]
    pd.testing.assert_frame_equal(first.prices, second.prices)


def test_macro_files_written_before_release_dates_read_as_unreleased_until_replaced(
    ctx: IngestionContext,
) -> None:
    # Given a macro partition file stored before the release_date column existed
    dates = pd.to_datetime(["2024-01-01", "2024-02-01"])
    old = pd.DataFrame({"date": dates, "series": "inflation", "value": [3.1, 3.2]})
    _ingest(ctx, "macro", old.assign(release_date=pd.to_datetime(["2024-02-15", "2024-03-15"])))
    record = ctx.snapshots.latest("macro")
    assert record is not None
    (stored,) = load_manifest(ctx.store, record).files
    ctx.store.put_bytes(stored.key, columnar.encode(old))
    FRAME_CACHE.clear()
    # When a new batch re-dates one of the months
    update = old.iloc[:1].assign(release_date=pd.Timestamp("2024-02-13"))
    _ingest(ctx, "macro", update)
    # Then that month has its release date and the other reads as not (yet) released
    record = ctx.snapshots.latest("macro")
    assert record is not None
    frame = read_file(ctx.store, "macro", load_manifest(ctx.store, record).files[0])
    released = dict(zip(frame["date"], frame["release_date"], strict=True))
    assert released[dates[0]] == pd.Timestamp("2024-02-13") and pd.isna(released[dates[1]])
