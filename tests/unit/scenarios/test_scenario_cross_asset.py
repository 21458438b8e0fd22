"""Hand-checkable cases for the multi-dataset and cross-asset scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData
from scenarios.earnings_momentum import Params as EarningsParams
from scenarios.earnings_momentum.compute import run as run_earnings
from scenarios.pairs_cointegration import Params as PairsParams
from scenarios.pairs_cointegration.compute import run as run_pairs
from scenarios.pointintime import fundamentals_as_of
from scenarios.quality import QualityLog
from scenarios.risk_watchlist import Params as RiskParams
from scenarios.risk_watchlist.compute import run as run_risk


def long_frame(dates: pd.DatetimeIndex, closes: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"date": dates, "symbol": s, "close": c, "volume": 1e6})
            for s, c in closes.items()
        ],
        ignore_index=True,
    )


def test_pairs_finds_the_constructed_cointegrated_pair() -> None:
    # Given B a random walk, A = 2 B + stationary noise, C an unrelated random walk
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2022-01-03", periods=300)
    b = np.cumsum(rng.normal(0, 0.01, 300)) + 4.0
    noise = np.zeros(300)
    for t in range(1, 300):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 0.005)
    a = 0.5 + 2.0 * b + noise
    c = np.cumsum(rng.normal(0, 0.01, 300)) + 4.0
    prices = long_frame(dates, {"AAA": np.exp(a), "BBB": np.exp(b), "CCC": np.exp(c)})
    # When
    result = run_pairs(ScenarioData(prices=prices), PairsParams(window=252))
    # Then
    best = result.rows[0]
    assert {best["symbol_a"], best["symbol_b"]} == {"AAA", "BBB"}
    assert best["significance"] == "1%"
    expected_ratio = 2.0 if best["symbol_a"] == "AAA" else 0.5
    assert best["hedge_ratio"] == pytest.approx(expected_ratio, rel=0.05)


def test_risk_var_and_drawdown_by_hand(make_data) -> None:
    # Given
    data = make_data(n_assets=4)
    wide = data.prices.pivot(index="date", columns="symbol", values="close")
    tail = wide.iloc[-253:]
    returns = tail.pct_change().iloc[1:]
    # When
    result = run_risk(data, RiskParams())
    # Then
    for row in result.rows:
        r = returns[row["symbol"]].to_numpy()
        var = -np.quantile(r, 0.05)
        assert row["var"] == pytest.approx(var, rel=1e-5)
        assert row["cvar"] == pytest.approx(-r[r <= -var].mean(), rel=1e-5)
        path = tail[row["symbol"]].iloc[1:]
        assert row["current_drawdown"] == pytest.approx(
            path.iloc[-1] / path.max() - 1, rel=1e-5, abs=1e-9
        )


def test_fundamentals_are_visible_only_from_report_date() -> None:
    # Given two quarters of AAA; the second is reported on 2024-05-10
    fundamentals = pd.DataFrame(
        {
            "symbol": ["AAA", "AAA"],
            "period_end": pd.to_datetime(["2023-12-31", "2024-03-31"]),
            "report_date": pd.to_datetime(["2024-02-10", "2024-05-10"]),
            "revenue": [10.0, 20.0],
            "net_income": [1.0, 2.0],
            "book_equity": [100.0, 200.0],
            "total_assets": [300.0, 300.0],
            "total_debt": [50.0, 60.0],
            "shares_outstanding": [10.0, 10.0],
        }
    )
    log = QualityLog()
    # When
    before = fundamentals_as_of(fundamentals, ["AAA", "BBB"], pd.Timestamp("2024-05-09"), log)
    after = fundamentals_as_of(fundamentals, ["AAA"], pd.Timestamp("2024-05-10"), log)
    # Then
    assert before.loc["AAA", "book_equity"] == 100.0
    assert after.loc["AAA", "book_equity"] == 200.0
    assert np.isnan(before.loc["AAA", "net_income"])  # TTM needs four quarters
    assert np.isnan(before.loc["BBB", "book_equity"])
    assert any("BBB" in note for note in log.notes)


def test_sue_and_drift_by_hand() -> None:
    # Given five quarters of surprises 0.1, -0.1, 0.1, -0.1 then 0.3, reported 2024-03-15
    dates = pd.bdate_range("2023-01-02", "2024-04-30")
    prices = long_frame(dates, {"AAA": np.linspace(10, 20, len(dates))})
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
    # When
    result = run_earnings(
        ScenarioData(prices=prices, earnings=earnings), EarningsParams(drift_window=10)
    )
    # Then
    row = result.rows[0]
    past = np.array([0.1, -0.1, 0.1, -0.1])
    assert row["sue"] == pytest.approx(0.3 / past.std(ddof=1), rel=1e-4)
    assert row["surprise_pct"] == pytest.approx(0.3, rel=1e-4)
    # drift after the day-0 reaction: close of 2024-03-15 (day 0) to close of day 10
    close = prices.set_index("date")["close"]
    day0 = close.index.get_loc(pd.Timestamp("2024-03-15"))
    expected = close.iloc[day0 + 10] / close.iloc[day0] - 1
    assert row["drift"] == pytest.approx(expected, rel=1e-5)
    assert row["revision"] == pytest.approx(0.0, abs=1e-12)
