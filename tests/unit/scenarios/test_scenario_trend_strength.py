"""trend_strength: hand-computed metrics, TA-Lib agreement, point-in-time, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from scenarios.base import ScenarioData, ScenarioInputError
from scenarios.panel import load_panel
from scenarios.trend_strength import Params
from scenarios.trend_strength.compute import run

SMALL = {"adx_period": 5, "ma_window": 20, "slope_window": 5, "momentum_lookback": 63}


def linear_prices(n_days: int = 80) -> pd.DataFrame:
    """UP rises 1 a day from 100, DOWN falls 0.5 a day from 100; high/low +-1."""
    dates = pd.bdate_range("2024-01-01", periods=n_days)
    t = np.arange(n_days, dtype=float)
    frames = []
    for symbol, close in (("UP", 100 + t), ("DOWN", 100 - 0.5 * t)):
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "symbol": symbol,
                    "open": close,
                    "high": close + 1,
                    "low": close - 1,
                    "close": close,
                    "volume": 1e6,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_hand_computed_metrics_on_linear_prices() -> None:
    # Given two straight-line price paths
    data = ScenarioData(prices=linear_prices(80))
    # When
    result = run(data, Params(**SMALL))
    # Then momentum, MA distance and slope follow from arithmetic
    rows = {r["symbol"]: r for r in result.rows}
    up = rows["UP"]
    assert up["momentum_12_1"] == pytest.approx(round((100 + 58) / (100 + 16) - 1, 6), rel=1e-5)
    ma_now = np.mean(100 + np.arange(60, 80))
    ma_before = np.mean(100 + np.arange(55, 75))
    assert up["ma_distance"] == pytest.approx(179 / ma_now - 1, rel=1e-5)
    assert up["ma_slope"] == pytest.approx(ma_now / ma_before - 1, rel=1e-5)
    assert up["direction"] == "up" and rows["DOWN"]["direction"] == "down"
    assert up["rank"] == 1 and rows["DOWN"]["rank"] == 2
    # a perfectly steady trend has DX = 100 every day, so ADX converges to 100
    assert up["adx"] == pytest.approx(100.0)
    assert result.as_of == pd.Timestamp("2024-04-19").date()


def test_rows_carry_the_contract_fields(make_data) -> None:
    # Given
    data = make_data()
    # When
    result = run(data, Params(**SMALL))
    # Then
    required = {"symbol", "adx", "momentum_12_1", "ma_slope", "ma_distance", "score", "rank"}
    assert all(required <= set(row) for row in result.rows)
    assert [r["rank"] for r in result.rows] == list(range(1, len(result.rows) + 1))
    assert result.data_quality.assets_used == 12
    assert all(c.row in {r["symbol"] for r in result.rows} for c in result.narrative if c.row)
    assert all(c.field in {col.name for col in result.columns} for c in result.narrative)


def test_adx_matches_talib_for_every_asset(make_data) -> None:
    # Given the panel the scenario reads
    data = make_data()
    params = Params(**SMALL)
    panel = load_panel(data, params, fields=("high", "low", "close"))
    # When
    result = run(data, params)
    # Then each row's ADX / DI equals TA-Lib's on that asset's series
    rows = {r["symbol"]: r for r in result.rows}
    for j, symbol in enumerate(panel.symbols):
        h, lo, c = panel["high"][:, j], panel["low"][:, j], panel["close"][:, j]
        assert rows[symbol]["adx"] == pytest.approx(talib.ADX(h, lo, c, 5)[-1], rel=1e-5)
        assert rows[symbol]["plus_di"] == pytest.approx(talib.PLUS_DI(h, lo, c, 5)[-1], rel=1e-5)
        assert rows[symbol]["minus_di"] == pytest.approx(talib.MINUS_DI(h, lo, c, 5)[-1], rel=1e-5)


def test_post_as_of_poison_changes_nothing(make_data, poison) -> None:
    # Given an as_of inside the data and a copy with everything after it corrupted
    data = make_data()
    as_of = pd.Timestamp("2021-12-15")
    params = Params(**SMALL, as_of=as_of.date())
    # When
    clean = run(data, params).model_dump_json()
    dirty = run(poison(data, as_of), params).model_dump_json()
    # Then
    assert clean == dirty


def test_runs_are_byte_identical(make_data) -> None:
    # Given the same data twice; When run twice; Then the JSON is byte-identical
    data = make_data()
    first = run(data, Params(**SMALL)).model_dump_json()
    second = run(make_data(), Params(**SMALL)).model_dump_json()
    assert first == second


def test_unknown_tickers_are_reported_and_all_unknown_is_an_error(make_data) -> None:
    # Given
    data = make_data()
    # When some tickers are unknown
    result = run(data, Params(**SMALL, tickers=["A01", "NOPE", "A02"]))
    # Then the known ones run and the unknown one is reported
    assert sorted(r["symbol"] for r in result.rows) == ["A01", "A02"]
    assert "NOPE" in result.data_quality.dropped
    assert result.data_quality.assets_requested == 3
    # When all are unknown
    with pytest.raises(ScenarioInputError) as err:
        run(data, Params(**SMALL, tickers=["NOPE"]))
    assert err.value.field == "tickers"


def test_as_of_outside_the_data_names_as_of(make_data) -> None:
    with pytest.raises(ScenarioInputError) as err:
        run(make_data(), Params(**SMALL, as_of="2030-01-01"))
    assert err.value.field == "as_of"


def test_lookback_longer_than_history_names_the_lookback(make_data) -> None:
    with pytest.raises(ScenarioInputError) as err:
        run(make_data(n_days=120), Params())
    assert err.value.field == "momentum_lookback"
    assert "253" in str(err.value)


def test_bad_prices_are_dropped_and_counted(make_data) -> None:
    # Given negative and non-numeric closes for one asset on two days
    prices = make_data().prices.copy()
    prices["close"] = prices["close"].astype(object)
    hit = prices.index[(prices["symbol"] == "A03")][[-20, -21]]
    prices.loc[hit[0], "close"] = -5.0
    prices.loc[hit[1], "close"] = "n/a"
    # When
    result = run(ScenarioData(prices=prices), Params(**SMALL))
    # Then the asset still runs (gap filled) and both rows are counted
    assert result.data_quality.rows_dropped == 2
    assert any("A03: 2" in note for note in result.data_quality.notes)
    assert any("forward-filled" in note for note in result.data_quality.notes)
    assert "A03" in {r["symbol"] for r in result.rows}


def test_delisted_and_short_history_assets_are_skipped(make_data) -> None:
    # Given A00 stops trading 30 days early and A01 lists only 40 days before the end
    prices = make_data().prices
    dates = sorted(prices["date"].unique())
    gone = (prices["symbol"] == "A00") & (prices["date"] > dates[-30])
    young = (prices["symbol"] == "A01") & (prices["date"] < dates[-40])
    # When
    result = run(ScenarioData(prices=prices[~gone & ~young]), Params(**SMALL))
    # Then
    dropped = result.data_quality.dropped
    assert "delisted" in dropped["A00"]
    assert "momentum_lookback" in dropped["A01"]
    assert result.data_quality.assets_used == 10


def test_sector_filter(make_data) -> None:
    data = make_data()
    result = run(data, Params(**SMALL, sector="energy"))
    assert {r["symbol"] for r in result.rows} == {"A03", "A07", "A11"}
    with pytest.raises(ScenarioInputError) as err:
        run(ScenarioData(prices=data.prices), Params(**SMALL, sector="Energy"))
    assert err.value.field == "sector"
