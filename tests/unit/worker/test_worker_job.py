"""The worker's job over moto: it loads the history each run's parameters need (warm-up
included) and every universe member of that window with its membership interval."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.datalake.writer import publish_snapshot, stage_snapshot
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.results import ResultStore
from quantdesk.runs.service import queued_run
from quantdesk.runs.worker_job import execute
from quantdesk.settings import get_settings
from scenarios.base import ScenarioData
from scenarios.registry import get_spec, runner

DAYS = 1700
DELISTED = pd.Timestamp("2026-03-02")


def _world() -> dict[str, pd.DataFrame]:
    """Six random walks over ~6.5 years; OLD stops trading and leaves the universe on
    DELISTED, NEW lists a year before the end."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range(end="2026-10-30", periods=DAYS)
    symbols = ["AAA", "BBB", "CCC", "DDD", "OLD", "NEW"]
    close = 40 * np.exp(np.cumsum(rng.normal(0.0002, 0.015, (DAYS, len(symbols))), axis=0))
    prices = pd.DataFrame(
        {
            "date": np.repeat(dates, len(symbols)),
            "symbol": np.tile(symbols, DAYS),
            "open": close.ravel(),
            "high": close.ravel() * 1.01,
            "low": close.ravel() * 0.99,
            "close": close.ravel(),
            "volume": 1e6,
        }
    )
    listed = ~(
        ((prices["symbol"] == "OLD") & (prices["date"] >= DELISTED))
        | ((prices["symbol"] == "NEW") & (prices["date"] < dates[-252]))
    )
    prices = prices[listed].reset_index(drop=True)
    universe = pd.DataFrame(
        {
            "universe": "us_all",
            "symbol": symbols,
            "start_date": [dates[0]] * 5 + [dates[-252]],
            "end_date": [pd.NaT] * 4 + [DELISTED, pd.NaT],
        }
    )
    # the tearsheet's catalogue entry reads fundamentals too (for its fundamental factors)
    fundamentals = pd.DataFrame(
        {
            "symbol": ["AAA"],
            "period_end": [pd.Timestamp("2026-06-30")],
            "report_date": [pd.Timestamp("2026-08-10")],
            **{
                item: [1.0]
                for item in (
                    "revenue",
                    "net_income",
                    "book_equity",
                    "total_assets",
                    "total_debt",
                    "shares_outstanding",
                )
            },
        }
    )
    return {"prices": prices, "universe": universe, "fundamentals": fundamentals}


@pytest.fixture
def world(ctx: IngestionContext) -> dict[str, pd.DataFrame]:
    frames = _world()
    for dataset, frame in frames.items():
        staged = stage_snapshot(ctx.store, ctx.snapshots, dataset, frame, sources=["test"])
        publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r1", now=ctx.clock())
    return frames


def _run(scenario_id: str, params: dict[str, Any]) -> dict[str, Any]:
    spec = get_spec(scenario_id)
    assert spec is not None
    settings = get_settings()
    run_id = f"run-{scenario_id}-{len(params)}"
    run = queued_run(run_id, "researcher", spec, params, code_version="test")
    RunRepository(settings.table_name).create(run.model_copy(update={"status": "running"}))
    outcome = execute(run_id, scenario_id, params, settings)
    return ResultStore(settings.results_bucket).get(outcome["result_key"])


@pytest.mark.parametrize(
    ("scenario_id", "params", "field"),
    [
        ("mean_reversion", {"rsi_period": 50}, "rsi"),
        ("mean_reversion", {"rsi_period": 30}, "rsi"),
        ("trend_strength", {"momentum_lookback": 504}, "momentum_12_1"),
        ("risk_watchlist", {"window": 1260}, "max_drawdown"),
    ],
)
def test_the_worker_loads_the_history_the_parameters_need(
    world: dict[str, pd.DataFrame], scenario_id: str, params: dict[str, Any], field: str
) -> None:
    # When the worker runs the scenario on the lake
    result = _run(scenario_id, {"universe": "us_all", **params})
    # Then each value equals the computation on the whole history of today's members
    spec = get_spec(scenario_id)
    assert spec is not None
    members = world["prices"][world["prices"]["symbol"] != "OLD"]
    full = runner(scenario_id)(ScenarioData(prices=members), spec.params_model(**params))
    expected = {r["symbol"]: r[field] for r in full.rows}
    assert {r["symbol"]: r[field] for r in result["rows"]} == expected


def test_the_tearsheet_sees_past_members_at_their_formation_dates(
    world: dict[str, pd.DataFrame],
) -> None:
    params = {
        "universe": "us_all",
        "factor": "reversal_1m",
        "evaluation_window": 252,
        "n_quantiles": 3,
    }
    # When
    result = _run("factor_tearsheet", params)
    # Then the delisted member counts while it was one, as on the whole history with the
    # membership intervals, and not when only today's members are loaded
    spec = get_spec("factor_tearsheet")
    assert spec is not None
    p = spec.params_model(**params)
    pit = runner("factor_tearsheet")(
        ScenarioData(prices=world["prices"], universe=world["universe"]), p
    )
    survivors = world["prices"][world["prices"]["symbol"] != "OLD"]
    biased = runner("factor_tearsheet")(ScenarioData(prices=survivors), p)
    assert result["rows"] == pit.model_dump(mode="json")["rows"]
    assert result["rows"] != biased.model_dump(mode="json")["rows"]
    assert result["data_quality"]["assets_used"] == 6
    assert any("OLD stopped trading" in n for n in result["data_quality"]["notes"])


def test_the_worker_reads_earnings_far_enough_back_for_eight_past_surprises(
    ctx: IngestionContext, world: dict[str, pd.DataFrame]
) -> None:
    # Given quarterly reports with alternating surprises for every symbol
    # reported 50 days into each quarter: the old fixed 800-day read missed the ninth report
    reports = pd.date_range("2022-01-01", "2026-10-01", freq="QS-JAN") + pd.Timedelta(days=50)
    rows = [
        {
            "symbol": s,
            "report_date": d,
            "fiscal_period": f"{d.year}Q{d.quarter}",
            "eps_actual": 1.0 + (0.1 if k % 2 else -0.1) * (1 + k % 3),
            "eps_estimate": 1.0,
        }
        for s in ["AAA", "BBB", "CCC", "DDD", "NEW"]
        for k, d in enumerate(reports)
    ]
    earnings = pd.DataFrame(rows)
    staged = stage_snapshot(ctx.store, ctx.snapshots, "earnings", earnings, sources=["test"])
    publish_snapshot(ctx.store, ctx.snapshots, staged, run_id="r2", now=ctx.clock())
    # When
    result = _run("earnings_momentum", {"universe": "us_all", "sue_history": 8})
    # Then SUE is scaled by the last eight past surprises, as on the whole history
    spec = get_spec("earnings_momentum")
    assert spec is not None
    members = world["prices"][world["prices"]["symbol"] != "OLD"]
    full = runner("earnings_momentum")(
        ScenarioData(prices=members, earnings=earnings), spec.params_model(sue_history=8)
    )
    assert {r["symbol"]: r["sue"] for r in result["rows"]} == {
        r["symbol"]: r["sue"] for r in full.rows
    }
    assert dt.date.fromisoformat(result["as_of"]) == dt.date(2026, 10, 30)


def test_the_lake_read_brings_the_splits_the_price_source_reported(
    ctx: IngestionContext,
) -> None:
    from quantdesk.datalake.reader import Lake, load_scenario_data  # noqa: PLC0415
    from quantdesk.ingestion.sources.base import FetchRequest  # noqa: PLC0415
    from tests.unit.in_process_ingestion import run_ingestion  # noqa: PLC0415

    # Given the sample ingested (its 2:1 split is a corporate action in the raw zone)
    run_ingestion([FetchRequest(source="sample")], ctx, run_id="ing-1")
    # When a fundamental scenario's data is read
    data, _ = load_scenario_data(
        ["prices", "fundamentals"],
        universe="us_all",
        tickers=None,
        start=dt.date(2024, 1, 2),
        end=dt.date(2024, 9, 30),
        lake=Lake(ctx.store, ctx.snapshots),
    )
    # Then the split comes along
    assert data.splits is not None
    assert data.splits["ratio"].tolist() == [2.0]
    assert data.splits["date"].tolist() == [pd.Timestamp("2024-06-10")]
