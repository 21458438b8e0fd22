"""mean_reversion and volatility_regime: row values against references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from scenarios.base import ScenarioData, ScenarioInputError
from scenarios.mean_reversion import Params as ReversionParams
from scenarios.mean_reversion.compute import run as run_reversion
from scenarios.volatility_regime import Params as VolParams
from scenarios.volatility_regime.compute import run as run_vol


def closes(data: ScenarioData) -> pd.DataFrame:
    return data.prices.pivot(index="date", columns="symbol", values="close")


def test_mean_reversion_rows_match_talib(make_data) -> None:
    # Given
    data = make_data()
    wide = closes(data)
    # When
    result = run_reversion(data, ReversionParams())
    # Then
    for row in result.rows:
        series = wide[row["symbol"]].to_numpy()
        assert row["rsi"] == pytest.approx(talib.RSI(series, 14)[-1], rel=1e-5)
        assert row["rsi_2"] == pytest.approx(talib.RSI(series, 2)[-1], rel=1e-5)
        upper, _, lower = talib.BBANDS(series, 20, 2.0, 2.0)
        percent_b = (series[-1] - lower[-1]) / (upper[-1] - lower[-1])
        assert row["percent_b"] == pytest.approx(percent_b, rel=1e-5, abs=1e-9)
        assert row["reversal"] == pytest.approx(series[-1] / series[-6] - 1, rel=1e-5)
    # rank 1 is the most oversold: its score is the highest
    scores = [r["score"] for r in result.rows]
    assert scores == sorted(scores, reverse=True)


def test_mean_reversion_flags_a_crash_as_oversold() -> None:
    # Given one asset that falls 3% a day for the last 8 sessions, one flat-ish
    dates = pd.bdate_range("2024-01-01", periods=60)
    t = np.arange(60)
    falling = np.where(t < 52, 100 + np.sin(t), (100 + np.sin(51)) * 0.97 ** (t - 51))
    calm = 50 + 0.5 * np.sin(t / 3)
    prices = pd.concat(
        [
            pd.DataFrame({"date": dates, "symbol": s, "close": c})
            for s, c in (("FALL", falling), ("CALM", calm))
        ]
    )
    # When
    result = run_reversion(ScenarioData(prices=prices), ReversionParams())
    # Then
    top = result.rows[0]
    assert top["symbol"] == "FALL" and top["signal"] == "oversold"
    assert top["rsi_2"] < 5 and top["percent_b"] < 0
    assert result.narrative[1].row == "FALL"


def test_volatility_rows_match_hand_computation(make_data) -> None:
    # Given
    data = make_data()
    wide = closes(data)
    returns = np.log(wide / wide.shift(1))
    realized = returns.rolling(21).std() * np.sqrt(252)
    # When
    result = run_vol(data, VolParams())
    # Then
    for row in result.rows:
        series = realized[row["symbol"]]
        assert row["realized_vol"] == pytest.approx(series.iloc[-1], rel=1e-5)
        history = series.iloc[-252:]
        expected = 100 * (history <= history.iloc[-1]).mean()
        assert row["vol_percentile"] == pytest.approx(expected, rel=1e-5)
        assert row["vol_change"] == pytest.approx(series.iloc[-1] / series.iloc[-22] - 1, 1e-5)
    percentiles = [r["vol_percentile"] for r in result.rows]
    assert percentiles == sorted(percentiles, reverse=True)


def test_ewma_vol_follows_riskmetrics_recursion(make_data) -> None:
    data = make_data(n_assets=3)
    series = closes(data)["A01"].to_numpy()
    r = np.diff(np.log(series))
    variance = np.mean(r[:21] ** 2)
    for value in r[21:]:
        variance = 0.94 * variance + 0.06 * value**2
    result = run_vol(data, VolParams(tickers=["A01"]))
    assert result.rows[0]["ewma_vol"] == pytest.approx(np.sqrt(variance * 252), rel=1e-5)


def test_volatility_lookback_longer_than_history(make_data) -> None:
    with pytest.raises(ScenarioInputError) as err:
        run_vol(make_data(), VolParams(regime_lookback=400))
    assert err.value.field == "regime_lookback"
