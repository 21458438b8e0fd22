"""No silent fallbacks and no off-by-ones: each case checked against a hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData
from scenarios.earnings_momentum import Params as EarningsParams
from scenarios.earnings_momentum.compute import run as run_earnings
from scenarios.mean_reversion import Params as ReversionParams
from scenarios.mean_reversion.compute import run as run_reversion
from scenarios.pointintime import fundamentals_as_of, fundamentals_history
from scenarios.quality import QualityLog
from scenarios.risk_watchlist import Params as RiskParams
from scenarios.risk_watchlist.compute import run as run_risk
from scenarios.volatility_regime import Params as VolParams
from scenarios.volatility_regime.compute import run as run_vol
from tests.unit.scenarios.test_scenario_cross_asset import long_frame


def _quarters(periods: list[str], **items: list[float]) -> pd.DataFrame:
    ends = pd.to_datetime(periods)
    n = len(ends)
    base = {
        "symbol": ["AAA"] * n,
        "period_end": ends,
        "report_date": ends + pd.Timedelta(days=30),
        "revenue": [10.0] * n,
        "net_income": [1.0] * n,
        "book_equity": [100.0] * n,
        "total_assets": [300.0] * n,
        "total_debt": [50.0] * n,
        "shares_outstanding": [10.0] * n,
    }
    base.update(items)
    return pd.DataFrame(base)


def test_a_nan_in_the_latest_report_is_not_replaced_by_an_older_quarter() -> None:
    # Given the latest quarter reports no book equity
    frame = _quarters(["2023-12-31", "2024-03-31"], book_equity=[100.0, np.nan])
    log = QualityLog()
    # When
    row = fundamentals_as_of(frame, ["AAA"], pd.Timestamp("2024-06-30"), log).loc["AAA"]
    history = fundamentals_history(
        frame, ["AAA"], pd.DatetimeIndex([pd.Timestamp("2024-06-30")]), QualityLog()
    )
    # Then the item is empty (and said so), not last quarter's 100
    assert np.isnan(row["book_equity"])
    assert np.isnan(history["book_equity"][0, 0])
    assert row["total_assets"] == 300.0
    assert any("lacks an item" in note and "AAA" in note for note in log.notes)


def test_ttm_needs_four_consecutive_quarters() -> None:
    # Given four reported quarters with 2023Q3 missing in between (span > a year)
    gap = _quarters(["2023-03-31", "2023-06-30", "2023-12-31", "2024-03-31"])
    whole = _quarters(["2023-06-30", "2023-09-30", "2023-12-31", "2024-03-31"])
    as_of = pd.Timestamp("2024-06-30")
    dates = pd.DatetimeIndex([as_of])
    # When / Then: the gap gives no TTM; four consecutive quarters sum
    assert np.isnan(fundamentals_as_of(gap, ["AAA"], as_of, QualityLog()).loc["AAA", "revenue"])
    assert np.isnan(fundamentals_history(gap, ["AAA"], dates, QualityLog())["revenue"][0, 0])
    assert fundamentals_as_of(whole, ["AAA"], as_of, QualityLog()).loc["AAA", "revenue"] == 40.0
    assert fundamentals_history(whole, ["AAA"], dates, QualityLog())["revenue"][0, 0] == 40.0


def _earnings_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    dates = pd.bdate_range("2023-01-02", "2024-06-28")
    rng = np.random.default_rng(4)
    closes = {
        "AAA": 10 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates)))),
        "BBB": 20 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates)))),
    }
    # CCC lists on 2024-04-01, after AAA's report: it must not dilute the benchmark with zeros
    late = 30 * np.exp(np.cumsum(rng.normal(0.01, 0.01, len(dates))))
    late[dates < "2024-04-01"] = np.nan
    closes["CCC"] = late
    prices = long_frame(dates, closes).dropna(subset=["close"])
    reports = pd.to_datetime(["2023-03-15", "2023-06-15", "2023-09-15", "2023-12-15", "2024-03-15"])
    earnings = pd.DataFrame(
        {
            "symbol": "AAA",
            "report_date": reports,
            "fiscal_period": ["22Q4", "23Q1", "23Q2", "23Q3", "23Q4"],
            "eps_actual": [1.1, 0.9, 1.1, 0.9, 1.3],
            "eps_estimate": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    return prices, earnings


def test_earnings_drift_starts_after_day_0_and_benchmark_skips_unlisted_assets() -> None:
    prices, earnings = _earnings_case()
    # When
    result = run_earnings(
        ScenarioData(prices=prices, earnings=earnings), EarningsParams(drift_window=20)
    )
    # Then: drift = close[day 0 + 20] / close[day 0] - 1 (day 0 = the report date's session)
    row = next(r for r in result.rows if r["symbol"] == "AAA")
    wide = prices.pivot(index="date", columns="symbol", values="close")
    day0 = wide.index.get_loc(pd.Timestamp("2024-03-15"))
    drift = wide["AAA"].iloc[day0 + 20] / wide["AAA"].iloc[day0] - 1
    assert row["drift"] == pytest.approx(drift, rel=1e-5)
    # the benchmark compounds the mean return of the assets listed each day
    returns = wide.pct_change().iloc[day0 + 1 : day0 + 21]
    market = (1 + returns.mean(axis=1, skipna=True)).prod() - 1
    assert row["abnormal_drift"] == pytest.approx(drift - market, rel=1e-5)


def test_drawdown_counts_a_fall_on_the_windows_first_session() -> None:
    # Given A falls 10% on the first session of a 63-session window, then stays flat
    dates = pd.bdate_range("2024-01-02", periods=64)
    a = np.full(64, 90.0)
    a[0] = 100.0
    b = 50.0 * np.exp(np.linspace(0, 0.1, 64))
    prices = long_frame(dates, {"AAA": a, "BBB": b})
    # When
    result = run_risk(ScenarioData(prices=prices), RiskParams(window=63))
    # Then
    row = next(r for r in result.rows if r["symbol"] == "AAA")
    assert row["max_drawdown"] == pytest.approx(-0.10, rel=1e-6)
    assert row["current_drawdown"] == pytest.approx(-0.10, rel=1e-6)


def test_a_flat_asset_is_neutral_not_oversold_nor_at_its_highest_volatility() -> None:
    # Given a price that never moves beside two that do
    dates = pd.bdate_range("2022-01-03", periods=400)
    rng = np.random.default_rng(9)
    closes = {
        "FLAT": np.full(400, 25.0),
        "MOVE": 10 * np.exp(np.cumsum(rng.normal(0, 0.01, 400))),
        "MOOV": 12 * np.exp(np.cumsum(rng.normal(0, 0.02, 400))),
    }
    data = ScenarioData(prices=long_frame(dates, closes))
    # When
    reversion = {r["symbol"]: r for r in run_reversion(data, ReversionParams()).rows}
    regimes = {r["symbol"]: r for r in run_vol(data, VolParams()).rows}
    # Then
    assert reversion["FLAT"]["rsi"] == 50.0
    assert reversion["FLAT"]["rsi_2"] == 50.0
    assert reversion["FLAT"]["signal"] == "neutral"
    assert regimes["FLAT"]["vol_percentile"] == pytest.approx(50.0, abs=0.5)
    assert regimes["FLAT"]["regime"] == "normal"
