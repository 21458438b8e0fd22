"""The frame schemas every scenario reads; ingestion writes exactly these columns.

All frames are *long* format (one row per observation). The canonical price panel is::

    date        symbol  open    high    low     close   volume
    2024-01-02  AAA     10.00   10.40   9.90    10.20   1.2e6
    2024-01-02  BBB     55.10   55.30   54.00   54.80   3.4e5
    2024-01-03  AAA     10.20   10.90   10.10   10.80   1.5e6
    ...

``date`` is ``datetime64[ns]`` (naive, trading date), ``symbol`` a string, prices are
split/dividend *adjusted* floats and ``volume`` is a float share count. Scenarios pivot to a
wide ``date x symbol`` frame with :func:`scenarios.panel.wide` when they need one.
"""

from __future__ import annotations

from typing import Final

#: dataset name -> ordered required columns
PRICES: Final = ("date", "symbol", "open", "high", "low", "close", "volume")
#: quarterly fundamentals, point-in-time: usable only from ``report_date`` on
FUNDAMENTALS: Final = (
    "symbol",
    "period_end",
    "report_date",
    "revenue",
    "net_income",
    "book_equity",
    "total_assets",
    "total_debt",
    "shares_outstanding",
)
#: earnings announcements: usable from ``report_date`` on
EARNINGS: Final = ("symbol", "report_date", "fiscal_period", "eps_actual", "eps_estimate")
#: macro series in long format; ``series`` is one of MACRO_SERIES. ``date`` is the reference
#: period (e.g. the first of the month for CPI), ``release_date`` the day the value became
#: public: a value is usable only from its ``release_date`` on (never from ``date``)
MACRO: Final = ("date", "series", "value", "release_date")
#: daily sentiment score in [-1, 1] with the number of mentions behind it
SENTIMENT: Final = ("date", "symbol", "score", "mentions")
#: universe membership intervals; ``end_date`` is NaT while still a member
UNIVERSE: Final = ("universe", "symbol", "start_date", "end_date")
#: sector classification
SECTORS: Final = ("symbol", "sector", "industry")
#: share splits (``ratio`` new shares per old, 2.0 for 2:1): not a lake dataset, read from the
#: corporate actions the price source reported; they put as-reported share counts on the basis
#: of the split-adjusted prices
SPLITS: Final = ("symbol", "date", "ratio")

SCHEMAS: Final[dict[str, tuple[str, ...]]] = {
    "prices": PRICES,
    "fundamentals": FUNDAMENTALS,
    "earnings": EARNINGS,
    "macro": MACRO,
    "sentiment": SENTIMENT,
    "universe": UNIVERSE,
    "sectors": SECTORS,
}

MACRO_SERIES: Final = ("rate_3m", "rate_2y", "rate_10y", "inflation", "usd", "oil")

UNIVERSES: Final = ("us_large_cap", "us_mid_cap", "us_small_cap", "us_all")

SECTOR_NAMES: Final = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
