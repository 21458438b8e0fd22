"""The pipeline steps over moto: sample ingestion end to end, idempotency, failure isolation."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from quantdesk.datalake import reader
from quantdesk.datalake.reader import Lake, check_readiness, load_scenario_data
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.sample import END_DATE, sample_symbols
from scenarios.pointintime import macro_panel
from tests.unit.in_process_ingestion import run_ingestion


def test_sample_ingestion_publishes_every_dataset_labelled_synthetic(ctx: IngestionContext) -> None:
    summary = run_ingestion([FetchRequest(source="sample")], ctx, run_id="ing-1")
    assert summary.status == "succeeded", summary.message
    assert set(summary.snapshots) == {
        "prices",
        "fundamentals",
        "earnings",
        "macro",
        "sentiment",
        "universe",
        "sectors",
    }
    record = ctx.snapshots.latest("prices")
    assert record is not None and record.synthetic and record.max_date == END_DATE
    assert "SYNTHETIC" in summary.message
    stored = ctx.snapshots.get_ingestion("ing-1")
    assert stored is not None and stored["status"] == "succeeded"


def test_rerunning_the_same_batch_adds_nothing(ctx: IngestionContext) -> None:
    run_ingestion([FetchRequest(source="sample", datasets=["prices", "sectors"])], ctx)
    before = ctx.snapshots.history("prices")
    summary = run_ingestion([FetchRequest(source="sample", datasets=["prices", "sectors"])], ctx)
    assert summary.status == "succeeded"
    assert summary.snapshots == {}
    assert all(d.unchanged for d in summary.sources[0].datasets)
    assert ctx.snapshots.history("prices") == before


def test_a_failing_source_does_not_sink_the_others(ctx: IngestionContext) -> None:
    summary = run_ingestion(
        [FetchRequest(source="nope"), FetchRequest(source="sample", datasets=["macro"])], ctx
    )
    assert summary.status == "succeeded_with_warnings"
    failed, ok = summary.sources
    assert failed.status == "failed" and "unknown source" in (failed.error or "")
    assert ok.status == "succeeded" and "macro" in summary.snapshots


def test_worker_reads_sample_universe_slice(ctx: IngestionContext) -> None:
    run_ingestion([FetchRequest(source="sample")], ctx)
    lake = Lake(ctx.store, ctx.snapshots)
    datasets = ["prices", "fundamentals", "earnings", "macro", "sentiment", "sectors"]
    start = END_DATE - dt.timedelta(days=400)
    readiness = check_readiness(
        datasets,
        universe="us_large_cap",
        tickers=None,
        start=start,
        end=None,
        today=END_DATE,
        lake=lake,
    )
    assert readiness.ready, readiness.message
    assert readiness.symbols_requested == 51  # 50 large caps + the promoted mid cap
    data, snapshots = load_scenario_data(
        datasets, universe="us_large_cap", tickers=None, start=start, end=None, lake=lake
    )
    assert data.prices["symbol"].nunique() == 51
    assert set(data.sectors["symbol"]) == set(data.prices["symbol"])
    assert data.macro is not None
    lookback = pd.Timestamp(start - dt.timedelta(days=reader.MACRO_LOOKBACK_DAYS))
    assert data.macro["date"].min() >= lookback
    # the CPI in force on the window's first session (released inside, dated before) is loaded
    sessions = pd.DatetimeIndex(sorted(data.prices["date"].unique()))
    assert macro_panel(data.macro, sessions)["inflation"].notna().all()
    assert set(snapshots) == {*datasets, "universe"}
    large = set(sample_symbols()[:50])
    assert large <= set(data.prices["symbol"])
