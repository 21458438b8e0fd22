"""When each macro value became public, for sources that have no vintages.

A macro row's ``date`` is its reference period (FRED's ``observation_date``; the first of the
month for CPI); ``release_date`` is the first day it could be known. ALFRED gives the real
release dates; the ``sample`` and ``fred`` sources (and FRED-shaped files) use these documented
per-series rules, set at or after the source's usual posting day so they never look ahead:

=============================  =================================  ==============================
series (FRED id)               publisher, schedule                release_date rule
=============================  =================================  ==============================
rate_3m, rate_2y, rate_10y     Fed H.15, posted on FRED the next  next business day
(DGS3MO, DGS2, DGS10)          business day
usd (DTWEXBGS)                 Fed H.10, weekly on Mondays        the Monday after the
                                                                  observation's week
oil (DCOILWTICO)               EIA spot prices, weekly on         the Wednesday after the
                               Wednesdays                         observation's week
inflation (CPIAUCSL)           BLS CPI, monthly, usually the      the 15th of the month after
                               10th-15th of the next month        the reference month
=============================  =================================  ==============================

A release later than the rule (e.g. a CPI delayed by a government shutdown) is only dated right
by ALFRED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pandas as pd

Rule = Callable[[pd.DatetimeIndex], pd.DatetimeIndex]


def _next_business_day(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return dates + pd.offsets.BDay(1)


def _monday_after_week(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return dates + pd.offsets.Week(weekday=0)  # strictly after: a Monday goes to the next one


def _wednesday_after_week(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return _monday_after_week(dates) + pd.Timedelta(days=2)


def _fifteenth_of_next_month(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return dates.to_period("M").to_timestamp() + pd.DateOffset(months=1, days=14)


#: our macro series -> the rule dating its release
RELEASE_RULES: Final[dict[str, Rule]] = {
    "rate_3m": _next_business_day,
    "rate_2y": _next_business_day,
    "rate_10y": _next_business_day,
    "usd": _monday_after_week,
    "oil": _wednesday_after_week,
    "inflation": _fifteenth_of_next_month,
}


def release_dates(series: pd.Series, dates: pd.Series) -> pd.Series:
    """The documented release date of each (series, reference date); NaT for unknown series
    or unparseable dates (validation then quarantines the row)."""
    parsed = pd.to_datetime(dates, errors="coerce")
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    for name, rule in RELEASE_RULES.items():
        rows = (series == name) & parsed.notna()
        if rows.any():
            out[rows] = rule(pd.DatetimeIndex(parsed[rows])).astype("datetime64[ns]")
    return out
