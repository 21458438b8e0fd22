"""Seeded synthetic data for every dataset the scenarios read.

``make_data(...)`` builds a :class:`ScenarioData` whose prices follow geometric random walks
with per-asset drift (so some assets trend), plus fundamentals, earnings, macro, sentiment and
sector frames with the exact columns of :mod:`scenarios.frames`. Same arguments, same frames.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData
from scenarios.frames import MACRO_SERIES, SECTOR_NAMES

START = "2021-01-04"


def synthetic_prices(n_assets: int = 12, n_days: int = 320, seed: int = 7) -> pd.DataFrame:
    """Long OHLCV frame: one row per (business day, asset), symbols ``A00, A01, ...``."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(START, periods=n_days)
    drift = np.linspace(-0.0015, 0.0015, n_assets)
    vol = rng.uniform(0.01, 0.03, n_assets)
    rets = rng.normal(drift, vol, size=(n_days, n_assets))
    close = 50.0 * np.exp(np.cumsum(rets, axis=0)) * rng.uniform(0.5, 2.0, n_assets)
    open_ = close * np.exp(rng.normal(0, 0.004, close.shape))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.015, close.shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.015, close.shape))
    volume = rng.integers(100_000, 2_000_000, close.shape).astype(float)
    symbols = [f"A{i:02d}" for i in range(n_assets)]
    return pd.DataFrame(
        {
            "date": np.repeat(dates, n_assets),
            "symbol": np.tile(symbols, n_days),
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    )


def synthetic_sectors(symbols: list[str]) -> pd.DataFrame:
    sectors = [SECTOR_NAMES[i % 4] for i in range(len(symbols))]
    return pd.DataFrame(
        {"symbol": symbols, "sector": sectors, "industry": [f"{s} industry" for s in sectors]}
    )


def synthetic_fundamentals(symbols: list[str], dates: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    quarter_ends = pd.date_range(dates[0] - pd.Timedelta(days=200), dates[-1], freq="QE")
    rows = []
    for i, symbol in enumerate(symbols):
        scale = 1e9 * (1 + i)
        for q in quarter_ends:
            revenue = scale * rng.uniform(0.8, 1.2)
            rows.append(
                {
                    "symbol": symbol,
                    "period_end": q,
                    "report_date": q + pd.Timedelta(days=int(rng.integers(25, 45))),
                    "revenue": revenue,
                    "net_income": revenue * rng.uniform(-0.05, 0.25),
                    "book_equity": scale * rng.uniform(1, 4),
                    "total_assets": scale * rng.uniform(4, 8),
                    "total_debt": scale * rng.uniform(0, 3),
                    "shares_outstanding": 1e8 * (1 + i % 5),
                }
            )
    return pd.DataFrame(rows)


def synthetic_earnings(symbols: list[str], dates: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 2)
    quarter_ends = pd.date_range(dates[0] - pd.Timedelta(days=400), dates[-1], freq="QE")
    rows = []
    for symbol in symbols:
        eps = rng.uniform(0.5, 3.0)
        for q in quarter_ends:
            estimate = eps * rng.uniform(0.95, 1.05)
            actual = estimate * (1 + rng.normal(0, 0.08))
            rows.append(
                {
                    "symbol": symbol,
                    "report_date": q + pd.Timedelta(days=int(rng.integers(20, 40))),
                    "fiscal_period": f"{q.year}Q{q.quarter}",
                    "eps_actual": actual,
                    "eps_estimate": estimate,
                }
            )
            eps = actual
    return pd.DataFrame(rows)


def synthetic_macro(dates: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 3)
    frames = []
    for k, series in enumerate(MACRO_SERIES):
        level = 1.0 + k + np.cumsum(rng.normal(0, 0.02, len(dates)))
        frames.append(pd.DataFrame({"date": dates, "series": series, "value": level}))
    out = pd.concat(frames, ignore_index=True)
    out["release_date"] = out["date"] + pd.offsets.BDay(1)  # published the next business day
    return out


def synthetic_sentiment(symbols: list[str], dates: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 4)
    shape = (len(dates), len(symbols))
    score = np.clip(rng.normal(0, 0.4, shape), -1, 1)
    mentions = rng.integers(0, 50, shape).astype(float)
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates, len(symbols)),
            "symbol": np.tile(symbols, len(dates)),
            "score": score.ravel(),
            "mentions": mentions.ravel(),
        }
    )
    return frame[frame["mentions"] > 0].reset_index(drop=True)


def synthetic_data(n_assets: int = 12, n_days: int = 320, seed: int = 7) -> ScenarioData:
    prices = synthetic_prices(n_assets, n_days, seed)
    symbols = sorted(prices["symbol"].unique().tolist())
    dates = pd.DatetimeIndex(sorted(prices["date"].unique()))
    return ScenarioData(
        prices=prices,
        fundamentals=synthetic_fundamentals(symbols, dates, seed),
        earnings=synthetic_earnings(symbols, dates, seed),
        macro=synthetic_macro(dates, seed),
        sentiment=synthetic_sentiment(symbols, dates, seed),
        sectors=synthetic_sectors(symbols),
    )


def poisoned(data: ScenarioData, as_of: pd.Timestamp) -> ScenarioData:
    """The same data with every observation after ``as_of`` corrupted."""

    def corrupt(frame: pd.DataFrame | None, date_col: str) -> pd.DataFrame | None:
        if frame is None:
            return None
        out = frame.copy()
        after = pd.to_datetime(out[date_col]) > as_of
        for column in out.columns:
            if column in ("date", "symbol", "series", date_col, "fiscal_period"):
                continue
            if pd.api.types.is_numeric_dtype(out[column]):
                out.loc[after, column] = -999.0 if column != "volume" else 1e15
        return out

    prices = corrupt(data.prices, "date")
    assert prices is not None
    later = prices[pd.to_datetime(prices["date"]) > as_of].copy()
    later["symbol"] = "ZZZ"  # an asset that only exists in the future
    later[["open", "high", "low", "close"]] = 1e6
    return ScenarioData(
        prices=pd.concat([prices, later], ignore_index=True),
        fundamentals=corrupt(data.fundamentals, "report_date"),
        earnings=corrupt(data.earnings, "report_date"),
        macro=corrupt(data.macro, "release_date"),
        sentiment=corrupt(data.sentiment, "date"),
        sectors=data.sectors,
    )


@pytest.fixture(scope="session")
def make_data() -> Callable[..., ScenarioData]:
    cache: dict[tuple[int, int, int], ScenarioData] = {}

    def build(n_assets: int = 12, n_days: int = 320, seed: int = 7) -> ScenarioData:
        key = (n_assets, n_days, seed)
        if key not in cache:
            cache[key] = synthetic_data(n_assets, n_days, seed)
        return cache[key]

    return build


@pytest.fixture(scope="session")
def poison() -> Callable[[ScenarioData, pd.Timestamp], ScenarioData]:
    return poisoned
