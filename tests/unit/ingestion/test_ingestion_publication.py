"""The documented publication-lag rules that date macro values without vintages."""

from __future__ import annotations

import pandas as pd
import pytest

from quantdesk.ingestion.sources.publication import RELEASE_RULES, release_dates
from scenarios.frames import MACRO_SERIES


@pytest.mark.parametrize(
    ("series", "date", "released"),
    [
        ("rate_10y", "2024-01-05", "2024-01-08"),  # Friday -> Monday
        ("rate_3m", "2024-01-02", "2024-01-03"),
        ("usd", "2024-01-01", "2024-01-08"),  # a Monday waits for the next Monday
        ("usd", "2024-01-05", "2024-01-08"),
        ("oil", "2024-01-01", "2024-01-10"),  # the Wednesday after the observation's week
        ("oil", "2024-01-05", "2024-01-10"),
        ("inflation", "2024-01-01", "2024-02-15"),  # BLS: mid next month (Jan 2024 CPI: Feb 13)
        ("inflation", "2024-12-01", "2025-01-15"),
    ],
)
def test_release_rule(series: str, date: str, released: str) -> None:
    out = release_dates(pd.Series([series]), pd.Series([date]))
    assert out.iloc[0] == pd.Timestamp(released)


def test_every_macro_series_has_a_rule_and_unknown_ones_get_none() -> None:
    assert set(RELEASE_RULES) == set(MACRO_SERIES)
    out = release_dates(pd.Series(["gold", "oil"]), pd.Series(["2024-01-02", "not a date"]))
    assert out.isna().all()


def test_a_release_is_never_before_its_reference_date() -> None:
    dates = pd.Series(pd.date_range("2023-01-01", "2024-12-31", freq="D").astype(str))
    for series in MACRO_SERIES:
        released = release_dates(pd.Series([series] * len(dates)), dates)
        assert (released > pd.to_datetime(dates)).all(), series
