"""Cross-sectional factor exposures shared by ``factor_ladder`` and ``factor_tearsheet``.

Price factors read a ``(T, N)`` close array at a row ``t`` (so a tearsheet can evaluate them at
past formation dates); fundamental factors read the point-in-time snapshot from
:func:`scenarios.pointintime.fundamentals_as_of` and the close at ``t``. Each returns one value
per asset, oriented so that *higher is better* for the factor's premium.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from scenarios.crosssection import WINSOR_LIMIT, zscore_rows
from scenarios.indicators import TRADING_DAYS
from scenarios.lookbacks import PRICE_FACTOR_SESSIONS

#: price-only factors and the sessions of history each needs before the formation row
PRICE_FACTORS: Final = PRICE_FACTOR_SESSIONS
FUNDAMENTAL_FACTORS: Final = ("value", "quality", "size")
ALL_FACTORS: Final = (*PRICE_FACTORS, *FUNDAMENTAL_FACTORS)
MONTH = 21
VOL_WINDOW = 126
MA_WINDOW = 200


def price_factor(name: str, close: np.ndarray, t: int) -> np.ndarray:
    """Exposure to a price factor at row ``t`` (NaN where history is too short)."""
    if t - PRICE_FACTORS[name] + 1 < 0:
        return np.full(close.shape[1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _PRICE_FACTOR_FUNCTIONS[name](close, t)


def _momentum_12_1(close: np.ndarray, t: int) -> np.ndarray:
    return close[t - MONTH] / close[t - 12 * MONTH] - 1.0  # type: ignore[no-any-return]


def _momentum_6_1(close: np.ndarray, t: int) -> np.ndarray:
    return close[t - MONTH] / close[t - 6 * MONTH] - 1.0  # type: ignore[no-any-return]


def _reversal_1m(close: np.ndarray, t: int) -> np.ndarray:
    return 1.0 - close[t] / close[t - MONTH]  # type: ignore[no-any-return]


def _low_volatility(close: np.ndarray, t: int) -> np.ndarray:
    window = close[t - VOL_WINDOW : t + 1]
    returns = window[1:] / window[:-1] - 1.0
    return -returns.std(axis=0, ddof=1) * np.sqrt(TRADING_DAYS)  # type: ignore[no-any-return]


def _trend_ma200(close: np.ndarray, t: int) -> np.ndarray:
    return close[t] / close[t - MA_WINDOW + 1 : t + 1].mean(axis=0) - 1.0  # type: ignore[no-any-return]


_PRICE_FACTOR_FUNCTIONS: Final = {
    "momentum_12_1": _momentum_12_1,
    "momentum_6_1": _momentum_6_1,
    "reversal_1m": _reversal_1m,
    "low_volatility": _low_volatility,
    "trend_ma200": _trend_ma200,
}


def fundamental_factors(snapshot: pd.DataFrame, price: np.ndarray) -> dict[str, np.ndarray]:
    """Value, quality and size exposures from a point-in-time fundamentals snapshot.

    ``snapshot`` is indexed like ``price`` (one row per asset). Market cap = price x shares.
    value = mean z of book/price and TTM earnings yield; quality = mean z of TTM ROE and
    -debt/assets; size = -log(market cap) (small caps score high). Returns raw sub-scores;
    the caller standardises.
    """
    items = {name: snapshot[name].to_numpy(dtype=float) for name in FUNDAMENTAL_ITEMS}
    return fundamental_subscores(items, price)


#: snapshot items the fundamental sub-scores read
FUNDAMENTAL_ITEMS: Final = (
    "shares_outstanding",
    "book_equity",
    "net_income",
    "total_assets",
    "total_debt",
)
#: fundamental factor -> the sub-scores whose z-scores it averages
FUNDAMENTAL_SUBSCORES: Final = {
    "value": ("book_to_price", "earnings_yield"),
    "quality": ("roe", "low_leverage"),
    "size": ("size",),
}


def fundamental_subscores(
    items: Mapping[str, np.ndarray], price: np.ndarray
) -> dict[str, np.ndarray]:
    """The raw sub-scores of :func:`fundamental_factors` from arrays of any matching shape.

    ``items`` maps each of :data:`FUNDAMENTAL_ITEMS` to an array shaped like ``price``: one
    value per asset, or a ``(T, N)`` history (dates x assets) to score every date at once.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        market_cap = price * items["shares_outstanding"]
        market_cap = np.where(market_cap > 0, market_cap, np.nan)
        book = items["book_equity"]
        income = items["net_income"]
        assets = np.where(items["total_assets"] > 0, items["total_assets"], np.nan)
        return {
            "book_to_price": book / market_cap,
            "earnings_yield": income / market_cap,
            "roe": np.where(book > 0, income / book, np.nan),
            "low_leverage": -items["total_debt"] / assets,
            "size": -np.log(market_cap),
            "market_cap": market_cap,
        }


def fundamental_exposures(
    name: str, subscores: Mapping[str, np.ndarray], limit: float = WINSOR_LIMIT
) -> np.ndarray:
    """``(T, N)`` exposure to a fundamental factor: per date (row), the mean of its sub-scores'
    winsorised cross-sectional z-scores over the sub-scores available for each asset.

    The same construction as ``factor_ladder`` without sector neutrality.
    """
    z = np.stack([zscore_rows(subscores[s], limit) for s in FUNDAMENTAL_SUBSCORES[name]])
    finite = np.isfinite(z)
    count = finite.sum(axis=0)
    total = np.where(finite, z, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
