"""Indicators against TA-Lib and hand-computed cases; cross-sectional invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scenarios import crosssection as cs
from scenarios import indicators as ind


@pytest.fixture(scope="module")
def ohlc() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (300, 6) random-walk panel; column 4 lists 80 rows late, column 5 at row 250."""
    rng = np.random.default_rng(3)
    close = 40 * np.exp(np.cumsum(rng.normal(0, 0.02, (300, 6)), axis=0))
    high = close * (1 + rng.uniform(0, 0.02, close.shape))
    low = close * (1 - rng.uniform(0, 0.02, close.shape))
    for col, start in ((4, 80), (5, 250)):
        for arr in (close, high, low):
            arr[:start, col] = np.nan
    return high, low, close


def talib_on(func, *columns: np.ndarray, **kwargs: object) -> np.ndarray:
    """Apply a TA-Lib function to each column's listed part, re-padded with leading NaN."""
    out = np.full(columns[0].shape, np.nan)
    for j in range(columns[0].shape[1]):
        start = int(np.argmax(np.isfinite(columns[0][:, j])))
        out[start:, j] = func(*(c[start:, j] for c in columns), **kwargs)
    return out


@pytest.mark.parametrize("period", [2, 5, 14])
def test_adx_and_di_match_talib(ohlc, period: int) -> None:
    # Given a panel with ragged listing dates
    high, low, close = ohlc
    # When
    adx, plus_di, minus_di = ind.adx(high, low, close, period)
    # Then every value equals TA-Lib's, NaN where TA-Lib has none yet
    np.testing.assert_allclose(adx, talib_on(talib.ADX, high, low, close, timeperiod=period))
    np.testing.assert_allclose(
        plus_di, talib_on(talib.PLUS_DI, high, low, close, timeperiod=period)
    )
    np.testing.assert_allclose(
        minus_di, talib_on(talib.MINUS_DI, high, low, close, timeperiod=period)
    )


@pytest.mark.parametrize("period", [2, 14])
def test_rsi_matches_talib(ohlc, period: int) -> None:
    _, _, close = ohlc
    np.testing.assert_allclose(
        ind.rsi(close, period), talib_on(talib.RSI, close, timeperiod=period)
    )


def test_true_range_and_std_match_talib(ohlc) -> None:
    high, low, close = ohlc
    np.testing.assert_allclose(
        ind.true_range(high, low, close), talib_on(talib.TRANGE, high, low, close)
    )
    sample = ind.rolling_std(close, 20, ddof=1)
    population = talib_on(talib.STDDEV, close, timeperiod=20, nbdev=1)
    np.testing.assert_allclose(sample, population * np.sqrt(20 / 19), rtol=1e-7)


def test_bollinger_percent_b_matches_talib(ohlc) -> None:
    # Given the last 20 closes of the fully listed columns
    _, _, close = ohlc
    listed = close[:, :4]
    # When
    percent_b = ind.bollinger_percent_b(listed, 20, 2.0)
    # Then
    for j in range(4):
        upper, _, lower = talib.BBANDS(listed[:, j], 20, 2.0, 2.0)
        expected = (listed[-1, j] - lower[-1]) / (upper[-1] - lower[-1])
        assert percent_b[j] == pytest.approx(expected, rel=1e-9)


def test_rsi_by_hand() -> None:
    # Given closes 10, 11, 12, 11, 13 and period 2
    close = np.array([10.0, 11.0, 12.0, 11.0, 13.0])
    # When
    value = ind.rsi(close, 2)
    # Then gains/losses 1,1,0,2 and 0,0,1,0: seed (1, 0) -> 100, then (0.5, 0.5) -> 50,
    # then (1.25, 0.25) -> 83.33
    np.testing.assert_allclose(value, [np.nan, np.nan, 100.0, 50.0, 1.25 / 1.5 * 100])


def test_wilder_and_ewma_by_hand() -> None:
    x = np.array([np.nan, 2.0, 4.0, 6.0, 8.0])
    np.testing.assert_allclose(ind.wilder_mean(x, 2), [np.nan, np.nan, 3.0, 4.5, 6.25])
    # seed = sum of first period-1 values (2), first output 2 - 2/2 + 4 = 5
    np.testing.assert_allclose(ind.wilder_sum(x, 2), [np.nan, np.nan, 5.0, 8.5, 12.25])
    np.testing.assert_allclose(ind.ewma(x, 0.5, 2), [np.nan, np.nan, 3.0, 4.5, 6.25])


def test_percentile_and_momentum_by_hand() -> None:
    history = np.array([[1.0, 5.0], [3.0, 4.0], [2.0, 3.0], [np.nan, 4.0]])
    # mid-rank: the last 4.0 ties with another 4.0 above one lower value -> (1 + 1.5) / 4
    np.testing.assert_allclose(ind.percentile_of_last(history), [np.nan, 62.5])
    close = np.array([10.0, 11.0, 12.0, 15.0])
    np.testing.assert_allclose(ind.momentum(close, 3, 1)[-1], 12.0 / 10.0 - 1)


finite_values = arrays(
    np.float64,
    st.integers(2, 60),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(values=finite_values, scale=st.floats(1e-3, 1e3), shift=st.floats(-1e3, 1e3))
def test_zscore_is_invariant_to_positive_affine_rescaling(
    values: np.ndarray, scale: float, shift: float
) -> None:
    base = cs.zscore(values)
    moved = cs.zscore(values * scale + shift)
    assert np.all(np.isfinite(base))
    if np.ptp(values) > 1e-3 * max(1.0, np.abs(values).max()):
        np.testing.assert_allclose(moved, base, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    values=arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.one_of(st.floats(-100, 100), st.just(np.nan)),
    )
)
def test_ranks_in_range_and_nan_never_ranked(values: np.ndarray) -> None:
    symbols = [f"S{i:03d}" for i in range(len(values))]
    ranks = cs.ranks(values, symbols)
    finite = np.isfinite(values)
    assert np.all(np.isnan(ranks[~finite]))
    assert sorted(ranks[finite].astype(int).tolist()) == list(range(1, int(finite.sum()) + 1))
    z = cs.zscore(values)
    assert np.array_equal(np.isfinite(z), finite)
    buckets = cs.buckets(values, symbols, 5)
    assert np.all((buckets[finite] >= 1) & (buckets[finite] <= 5))


def test_rank_ties_break_by_symbol() -> None:
    ranks = cs.ranks(np.array([1.0, 2.0, 1.0]), ["C", "B", "A"])
    np.testing.assert_array_equal(ranks, [3.0, 1.0, 2.0])


def test_winsorize_clips_tails() -> None:
    values = np.append(np.arange(99.0), 1e9)
    clipped = cs.winsorize(values, 0.01)
    assert clipped.max() < 1e9
    assert clipped[1:98].tolist() == values[1:98].tolist()
    assert clipped[0] == pytest.approx(0.99)
