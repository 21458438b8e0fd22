"""Sessions of history each price factor reads at a formation date (warm-up included).

Plain constants, so the catalogue (pydantic only) can size the history a run loads.
"""

from __future__ import annotations

from typing import Final

PRICE_FACTOR_SESSIONS: Final = {
    "momentum_12_1": 253,
    "momentum_6_1": 127,
    "reversal_1m": 22,
    "low_volatility": 127,
    "trend_ma200": 200,
}
