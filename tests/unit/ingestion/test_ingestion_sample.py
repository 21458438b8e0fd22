"""The synthetic ``sample`` vendor: deterministic, complete, realistic enough, labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.ingestion.sources.sample import END_DATE, EVENTS, generate, sample_symbols
from scenarios.frames import MACRO_SERIES, SCHEMAS, SECTOR_NAMES, UNIVERSES


@pytest.fixture(scope="module")
def sample() -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    return generate()


def test_generates_all_seven_datasets_with_exact_columns(sample) -> None:
    frames, _ = sample
    assert set(frames) == set(SCHEMAS)
    for name, frame in frames.items():
        assert tuple(frame.columns) == SCHEMAS[name], name
        assert len(frame) > 0


def test_is_deterministic() -> None:
    # (its speed is measured by `make bench`, not asserted here)
    first, _ = generate()
    second, _ = generate()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_universe_sector_and_calendar_shape(sample) -> None:
    frames, _ = sample
    prices, universe, sectors = frames["prices"], frames["universe"], frames["sectors"]
    assert prices["symbol"].nunique() == 150 == len(sample_symbols())
    assert prices["date"].max() == pd.Timestamp(END_DATE)
    assert prices["date"].min() < pd.Timestamp(END_DATE.replace(year=END_DATE.year - 5))
    assert set(universe["universe"]) == set(UNIVERSES)
    assert set(sectors["sector"]) == set(SECTOR_NAMES)
    assert set(frames["macro"]["series"]) == set(MACRO_SERIES)


def test_corporate_events_are_present(sample) -> None:
    frames, extras = sample
    prices = frames["prices"]
    symbols = sample_symbols()
    delisted = prices[prices["symbol"] == symbols[EVENTS.delisted]]
    assert delisted["date"].max() == pd.Timestamp(EVENTS.delist_date)
    halted = prices[prices["symbol"] == symbols[EVENTS.halt]].set_index("date")
    assert pd.Timestamp(EVENTS.halt_start) not in halted.index
    late = prices[prices["symbol"] == symbols[EVENTS.late_listing]]
    assert late["date"].min() >= pd.Timestamp(EVENTS.listing_date)
    # the split is adjusted in the curated prices and visible in the raw zone
    raw = extras["prices_unadjusted"]
    split = symbols[EVENTS.split]
    raw_split = raw[raw["symbol"] == split].set_index("date")["close"]
    adjusted = prices[prices["symbol"] == split].set_index("date")["close"]
    jump_raw = raw_split.pct_change().abs().max()
    jump_adj = adjusted.pct_change().abs().max()
    assert jump_raw > 0.4 > jump_adj
    assert extras["corporate_actions"]["action"].tolist() == ["split"]


def test_fundamentals_are_point_in_time(sample) -> None:
    fundamentals = sample[0]["fundamentals"]
    lag = (fundamentals["report_date"] - fundamentals["period_end"]).dt.days
    assert lag.min() >= 20
    assert (fundamentals["report_date"] <= pd.Timestamp(END_DATE)).all()


def test_earnings_surprise_is_followed_by_drift(sample) -> None:
    frames, _ = sample
    prices = frames["prices"].pivot(index="date", columns="symbol", values="close")
    returns = np.log(prices).diff()
    drift = []
    for row in frames["earnings"].itertuples():
        if row.report_date not in returns.index:
            continue
        k = returns.index.get_loc(row.report_date)
        window = returns[row.symbol].iloc[k + 1 : k + 41].sum()
        drift.append((row.eps_actual - row.eps_estimate > 0, window))
    frame = pd.DataFrame(drift, columns=["beat", "drift"])
    means = frame.groupby("beat")["drift"].mean()
    assert means[True] > means[False]


def test_macro_is_dated_by_reference_period_and_released_by_the_documented_lag(sample) -> None:
    macro = sample[0]["macro"]
    cpi = macro[macro["series"] == "inflation"]
    # CPI describes a month (dated its first day) and is public on the 15th of the next
    assert (cpi["date"].dt.day == 1).all()
    assert (cpi["release_date"] == cpi["date"] + pd.DateOffset(months=1, days=14)).all()
    # nothing is published after the sample's end date, and nothing before its period
    assert macro["release_date"].max() <= pd.Timestamp(END_DATE)
    assert (macro["release_date"] > macro["date"]).all()
    rates = macro[macro["series"] == "rate_10y"]
    assert (rates["release_date"] == rates["date"] + pd.offsets.BDay(1)).all()
