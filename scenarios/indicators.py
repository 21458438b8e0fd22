"""Technical indicators vectorised over a ``(T, N)`` panel (rows = dates, columns = assets).

Every function takes and returns float64 arrays shaped like the panel from
:func:`scenarios.panel.load_panel`: leading NaN rows before an asset's first trade, no gaps
after it. A 1-D array is treated as a single asset. Conventions follow TA-Lib (Wilder's
smoothing seeded with a simple average), and the unit tests compare against it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: trading sessions per year, used to annualise daily statistics
TRADING_DAYS = 252


def as_2d(x: np.ndarray) -> np.ndarray:
    array = np.asarray(x, dtype=np.float64)
    return array[:, None] if array.ndim == 1 else array


def _like(result: np.ndarray, original: np.ndarray) -> np.ndarray:
    return result[:, 0] if np.ndim(original) == 1 else result


def first_valid_row(x: np.ndarray) -> np.ndarray:
    """Per column, the first row holding a finite value (``len(x)`` when none)."""
    finite = np.isfinite(x)
    return np.where(finite.any(axis=0), finite.argmax(axis=0), x.shape[0])


def _recursive(
    x: np.ndarray, decay: float, gain: float, seed_rows: np.ndarray, seeds: np.ndarray
) -> np.ndarray:
    """``s[t] = decay * s[t-1] + gain * x[t]`` restarted at ``s[seed_rows[j]] = seeds[j]``.

    Rows before a column's seed row are NaN. One pass over time, vectorised across assets.
    """
    n_rows, n_cols = x.shape
    out = np.empty_like(x)
    state = np.full(n_cols, np.nan)
    by_row: dict[int, np.ndarray] = {}
    for row in np.unique(seed_rows[seed_rows < n_rows]):
        by_row[int(row)] = np.flatnonzero(seed_rows == row)
    start = int(seed_rows.min()) if n_cols else n_rows
    out[:start] = np.nan
    scaled = x * gain if gain != 1.0 else x
    for t in range(start, n_rows):
        state *= decay
        state += scaled[t]
        cols = by_row.get(t)
        if cols is not None:
            state[cols] = seeds[cols]
        out[t] = state
    out[np.arange(n_rows)[:, None] < seed_rows[None, :]] = np.nan
    return out


def _window_sums(x: np.ndarray, first: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of each column's first ``length`` values from its first valid row, and the end row."""
    n_rows = x.shape[0]
    end = first + length - 1
    offsets = first[None, :] + np.arange(length)[:, None]
    window = x[np.minimum(offsets, n_rows - 1), np.arange(x.shape[1])[None, :]]
    sums = np.where(offsets < n_rows, window, np.nan).sum(axis=0)
    return sums, end


def wilder_mean(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder's moving average (RSI, ATR): ``a[t] = a[t-1] + (x[t] - a[t-1]) / period``.

    Seeded with the simple mean of a column's first ``period`` values; NaN before that.
    """
    data = as_2d(x)
    first = first_valid_row(data)
    sums, seed_rows = _window_sums(data, first, period)
    alpha = 1.0 / period
    return _like(_recursive(data, 1.0 - alpha, alpha, seed_rows, sums / period), x)


def wilder_sum(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder's running sum as TA-Lib smooths +DM, -DM and TR for ADX.

    Seeded with the sum of the first ``period - 1`` values, then
    ``s[t] = s[t-1] - s[t-1] / period + x[t]``; the first output is at the ``period``-th value.
    """
    data = as_2d(x)
    first = first_valid_row(data)
    sums, seed_rows = _window_sums(data, first, period - 1)
    smoothed = _recursive(data, 1.0 - 1.0 / period, 1.0, seed_rows, sums)
    smoothed[seed_rows[seed_rows < data.shape[0]], np.flatnonzero(seed_rows < data.shape[0])] = (
        np.nan
    )
    return _like(smoothed, x)


def shift(x: np.ndarray, periods: int) -> np.ndarray:
    """Lag rows by ``periods`` (positive = values from the past), NaN-filled."""
    out = np.full_like(x, np.nan)
    if periods == 0:
        out[:] = x
    elif periods > 0:
        out[periods:] = x[:-periods]
    else:
        out[:periods] = x[-periods:]
    return out


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """``max(high, prev close) - min(low, prev close)``; NaN on an asset's first row."""
    prev_close = shift(close, 1)
    return np.maximum(high, prev_close) - np.minimum(low, prev_close)


def directional_movement(high: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilder's +DM and -DM: the larger of the up-move and down-move, if positive, else 0."""
    up = high - shift(high, 1)
    down = shift(low, 1) - low
    plus = np.where((up > down) & (up > 0), up, 0.0)
    minus = np.where((down > up) & (down > 0), down, 0.0)
    undefined = np.isnan(up) | np.isnan(down)
    plus[undefined] = np.nan
    minus[undefined] = np.nan
    return plus, minus


def adx(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average directional index with its +DI and -DI (Wilder, TA-Lib conventions).

    ``+DI = 100 * S(+DM) / S(TR)``, ``-DI = 100 * S(-DM) / S(TR)`` with ``S`` = :func:`wilder_sum`;
    ``DX = 100 * |+DI - -DI| / (+DI + -DI)`` (0 when both are 0);
    ``ADX = wilder_mean(DX, period)``. The first ADX value needs ``2 * period`` sessions.
    """
    h, lo, c = as_2d(high), as_2d(low), as_2d(close)
    plus_dm, minus_dm = directional_movement(h, lo)
    tr = wilder_sum(true_range(h, lo, c), period)
    # in-place arithmetic: this runs on the whole panel, temporaries cost more than the maths
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.divide(100.0, tr)
        plus_di = wilder_sum(plus_dm, period)
        plus_di *= scale
        minus_di = wilder_sum(minus_dm, period)
        minus_di *= scale
        del scale
        # S(DM) <= S(TR) bar by bar, so a zero range means no movement at all
        flat = tr == 0
        plus_di[flat] = 0.0
        minus_di[flat] = 0.0
        total = plus_di + minus_di
        dx = np.subtract(plus_di, minus_di)
        np.abs(dx, out=dx)
        dx *= 100.0
        dx /= total
        dx[total == 0] = 0.0
        del total
    return _like(wilder_mean(dx, period), high), _like(plus_di, high), _like(minus_di, high)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's relative strength index: ``100 - 100 / (1 + avg gain / avg loss)``.

    Gains and losses are Wilder-averaged (:func:`wilder_mean`); 100 when there was no loss,
    as TA-Lib does. A price that did not move at all has no gains or losses to compare: 50,
    neutral (TA-Lib prints 0, "oversold"). First value after ``period`` changes.
    """
    c = as_2d(close)
    change = c - shift(c, 1)
    gain = np.where(change > 0, change, 0.0)
    loss = np.where(change < 0, -change, 0.0)
    gain[np.isnan(change)] = np.nan
    loss[np.isnan(change)] = np.nan
    avg_gain = wilder_mean(gain, period)
    avg_loss = wilder_mean(loss, period)
    total = avg_gain + avg_loss
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(total > 0, 100.0 * avg_gain / total, 50.0)
    value[np.isnan(total)] = np.nan
    return _like(value, close)


def momentum(close: np.ndarray, lookback: int, skip: int = 0) -> np.ndarray:
    """Time-series momentum ``close[t - skip] / close[t - lookback] - 1``."""
    c = as_2d(close)
    return _like(shift(c, skip) / shift(c, lookback) - 1.0, close)


def log_returns(close: np.ndarray) -> np.ndarray:
    c = as_2d(close)
    return _like(np.log(c / shift(c, 1)), close)


def ewma(x: np.ndarray, decay: float, seed_window: int) -> np.ndarray:
    """Exponentially weighted mean ``m[t] = decay * m[t-1] + (1 - decay) * x[t]``.

    Seeded with the simple mean of each column's first ``seed_window`` values (RiskMetrics
    style when ``x`` holds squared returns).
    """
    data = as_2d(x)
    first = first_valid_row(data)
    sums, seed_rows = _window_sums(data, first, seed_window)
    return _like(_recursive(data, decay, 1.0 - decay, seed_rows, sums / seed_window), x)


def rolling_std(x: np.ndarray, window: int, ddof: int = 1) -> np.ndarray:
    """Rolling standard deviation over ``window`` rows (NaN until the window is full)."""

    frame = pd.DataFrame(as_2d(x))
    out = frame.rolling(window, min_periods=window).std(ddof=ddof).to_numpy()
    return _like(out, x)


def percentile_of_last(history: np.ndarray) -> np.ndarray:
    """Per column, the mid-rank of the last row among the finite values of ``history``, in %.

    ``100 * (below + (ties + 1) / 2) / count``, ``below`` the values strictly lower, ``ties``
    the values equal to the last (itself included): the percent of values <= the last when
    it is unique, and 50 (not 100) for a series that never changes.
    """
    data = as_2d(history)
    last = data[-1]
    finite = np.isfinite(data)
    count = finite.sum(axis=0)
    values = np.where(finite, data, np.inf)
    below = (values < last[None, :]).sum(axis=0)
    ties = (values == last[None, :]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rank = below + (ties + 1) / 2.0
        out = np.where((count > 0) & np.isfinite(last), 100.0 * rank / count, np.nan)
    return out


def bollinger_percent_b(close: np.ndarray, window: int, width: float) -> np.ndarray:
    """Bollinger %b at the last row: ``(C - lower) / (upper - lower)``.

    ``middle`` = mean of the last ``window`` closes, bands = ``middle +- width * std``
    (population std, as TA-Lib's BBANDS); 0.5 when the band has zero width.
    """
    c = as_2d(close)
    tail = c[-window:]
    middle = tail.mean(axis=0)
    spread = width * tail.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, (c[-1] - (middle - spread)) / (2 * spread), 0.5)
