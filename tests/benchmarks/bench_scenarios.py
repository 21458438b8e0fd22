"""trend_strength on a 3,000 assets x 2,520 sessions panel, against baselines from the same run.

Prints: the scenario's wall time; the ratio to a plain ``numpy.copyto`` of the input's numeric
block (goal <= 20x); the ratio of a naive per-ticker pandas implementation to ours (goal >= 3x);
and peak memory allocated during the run (tracemalloc, numpy buffers included) over the input
frame's bytes (goal <= 3x). ``python -m tests.benchmarks scenarios`` runs only this file.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

from scenarios.base import ScenarioData
from scenarios.trend_strength import Params
from scenarios.trend_strength.compute import run

N_ASSETS = 3_000
N_SESSIONS = 2_520
REPEATS = 5
GOALS = {"copyto": 20.0, "naive": 3.0, "memory": 3.0}


def make_prices(
    n_assets: int = N_ASSETS,
    n_sessions: int = N_SESSIONS,
    *,
    seed: int = 42,
    prefix: str = "S",
    start: str = "2015-01-02",
) -> pd.DataFrame:
    """Seeded random-walk OHLCV in the long format ingestion writes (symbols ``prefix0000``...)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_sessions)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.02, (n_sessions, n_assets)), axis=0))
    spread = rng.uniform(0.0, 0.02, close.shape)
    symbols = np.array([f"{prefix}{i:04d}" for i in range(n_assets)])
    return pd.DataFrame(
        {
            "date": np.repeat(dates.to_numpy(), n_assets),
            "symbol": pd.array(np.tile(symbols, n_sessions), dtype="str"),
            "open": close.ravel(),
            "high": (close * (1 + spread)).ravel(),
            "low": (close * (1 - spread)).ravel(),
            "close": close.ravel(),
            "volume": np.full(close.size, 1e6),
        }
    )


def naive_trend(prices: pd.DataFrame, params: Params) -> pd.DataFrame:
    """What a first draft looks like: group by ticker, pandas rolling/ewm per series."""
    out = {}
    for symbol, group in prices.groupby("symbol", sort=True):
        g = group.sort_values("date")
        high, low, close = g["high"], g["low"], g["close"]
        prev_close = close.shift(1)
        tr = pd.concat([high - low, (high - prev_close).abs(), (low - prev_close).abs()], axis=1)
        up, down = high.diff(), -low.diff()
        plus_dm = up.where((up > down) & (up > 0), 0.0)
        minus_dm = down.where((down > up) & (down > 0), 0.0)
        alpha = 1.0 / params.adx_period
        atr = tr.max(axis=1).ewm(alpha=alpha, adjust=False).mean()
        plus_di = 100 * plus_dm.ewm(alpha=alpha, adjust=False).mean() / atr
        minus_di = 100 * minus_dm.ewm(alpha=alpha, adjust=False).mean() / atr
        dx = 100 * (plus_di - minus_di).abs() / (plus_di + minus_di)
        adx = dx.ewm(alpha=alpha, adjust=False).mean()
        ma = close.rolling(params.ma_window).mean()
        out[symbol] = {
            "adx": adx.iloc[-1],
            "ma_slope": ma.iloc[-1] / ma.iloc[-1 - params.slope_window] - 1,
            "ma_distance": close.iloc[-1] / ma.iloc[-1] - 1,
            "momentum_12_1": close.iloc[-1 - params.momentum_skip]
            / close.iloc[-1 - params.momentum_lookback]
            - 1,
        }
    frame = pd.DataFrame(out).T
    ranks = frame.rank(pct=True).mean(axis=1).rank(ascending=False, method="first")
    return frame.assign(rank=ranks)


def timed(func: Callable[[], object], repeats: int = REPEATS) -> list[float]:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return times


def peak_bytes(func: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def verdict(ok: bool) -> str:
    return "meets goal" if ok else "MISSES goal"


def main() -> None:
    prices = make_prices()
    data = ScenarioData(prices=prices)
    params = Params()
    input_bytes = int(prices.memory_usage(deep=True).sum())
    numeric = prices[["open", "high", "low", "close", "volume"]].to_numpy()
    target = np.empty_like(numeric)
    print(
        f"panel: {N_ASSETS} assets x {N_SESSIONS} sessions = {len(prices):,} rows, "
        f"input frame {input_bytes / 1e6:,.0f} MB"
    )

    copy_times = timed(lambda: np.copyto(target, numeric))
    ours = timed(lambda: run(data, params))
    copy_s, ours_s = min(copy_times), statistics.median(ours)
    print(f"numpy.copyto of the {numeric.nbytes / 1e6:,.0f} MB numeric block: {copy_s:.3f} s")
    print(f"trend_strength: median {ours_s:.2f} s (runs: {', '.join(f'{t:.2f}' for t in ours)})")
    ratio = ours_s / copy_s
    print(f"  vs copyto: {ratio:.1f}x  (goal <= {GOALS['copyto']:.0f}x: {verdict(ratio <= 20)})")

    naive_s = timed(lambda: naive_trend(prices, params), repeats=1)[0]
    speedup = naive_s / ours_s
    print(f"naive per-ticker pandas: {naive_s:.2f} s")
    print(f"  speed-up: {speedup:.1f}x  (goal >= {GOALS['naive']:.0f}x: {verdict(speedup >= 3)})")

    peak = peak_bytes(lambda: run(data, params))
    share = peak / input_bytes
    print(f"peak traced allocation during the run: {peak / 1e6:,.0f} MB")
    print(
        f"  vs input bytes: {share:.2f}x  (goal <= {GOALS['memory']:.0f}x: {verdict(share <= 3)})"
    )


if __name__ == "__main__":
    main()
