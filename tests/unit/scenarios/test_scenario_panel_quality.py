"""load_panel data-quality accounting: every row it cannot use is counted, never silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData, ScenarioInputError, ScenarioParams
from scenarios.panel import load_panel
from scenarios.pointintime import earnings_as_of, sentiment_panel
from scenarios.quality import QualityLog

DATES = pd.bdate_range("2024-01-01", periods=5)


def two_assets() -> pd.DataFrame:
    """AAA closes 1..5, BBB closes 10..14 on five business days; dates as ISO strings."""
    return pd.DataFrame(
        {
            "date": [d.date().isoformat() for d in DATES] * 2,
            "symbol": ["AAA"] * 5 + ["BBB"] * 5,
            "close": [1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 11.0, 12.0, 13.0, 14.0],
        }
    )


def with_rows(frame: pd.DataFrame, rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)


def test_clean_frame_reports_no_drops() -> None:
    # Given / When
    panel = load_panel(ScenarioData(prices=two_assets()), ScenarioParams())
    # Then
    assert (panel.log.rows_in, panel.log.rows_dropped) == (10, 0)
    assert panel.log.notes == []


def test_unparseable_dates_are_counted_per_symbol() -> None:
    # Given three AAA rows and one BBB row whose date cannot be parsed
    prices = with_rows(
        two_assets(),
        [
            {"date": "not a date", "symbol": "AAA", "close": 99.0},
            {"date": "2024-13-45", "symbol": "AAA", "close": 99.0},
            {"date": None, "symbol": "AAA", "close": 99.0},
            {"date": "", "symbol": "BBB", "close": 99.0},
        ],
    )
    # When
    panel = load_panel(ScenarioData(prices=prices), ScenarioParams())
    # Then the prices are untouched and the four rows are counted and named
    np.testing.assert_array_equal(panel["close"][:, 0], [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(panel["close"][:, 1], [10.0, 11.0, 12.0, 13.0, 14.0])
    assert (panel.log.rows_in, panel.log.rows_dropped) == (14, 4)
    assert "4 rows with a missing or unparseable date dropped (AAA: 3, BBB: 1)" in panel.log.notes


def test_unparseable_dates_of_unselected_assets_are_not_counted() -> None:
    # Given a bad-dated BBB row, and only AAA requested
    prices = with_rows(two_assets(), [{"date": "garbage", "symbol": "BBB", "close": 1.0}])
    # When
    panel = load_panel(ScenarioData(prices=prices), ScenarioParams(tickers=["AAA"]))
    # Then
    assert (panel.log.rows_in, panel.log.rows_dropped) == (5, 0)


def test_rows_without_symbol_are_dropped_not_pivoted_into_another_asset() -> None:
    # Given a symbol-less row on BBB's third date (it used to overwrite BBB's close there)
    prices = with_rows(
        two_assets(), [{"date": DATES[2].date().isoformat(), "symbol": None, "close": 999.0}]
    )
    # When
    panel = load_panel(ScenarioData(prices=prices), ScenarioParams())
    # Then
    assert panel.symbols.tolist() == ["AAA", "BBB"]
    np.testing.assert_array_equal(panel["close"][:, 1], [10.0, 11.0, 12.0, 13.0, 14.0])
    assert (panel.log.rows_in, panel.log.rows_dropped) == (11, 1)
    assert panel.log.dropped == {}
    assert "1 rows without a symbol dropped" in panel.log.notes


def test_symbol_less_rows_after_as_of_are_outside_the_analysis() -> None:
    # Given a symbol-less row after as_of
    prices = with_rows(
        two_assets(), [{"date": DATES[4].date().isoformat(), "symbol": None, "close": 9.0}]
    )
    # When
    panel = load_panel(ScenarioData(prices=prices), ScenarioParams(as_of=DATES[3].date()))
    # Then
    assert (panel.log.rows_in, panel.log.rows_dropped) == (8, 0)


def test_accounting_adds_up_across_every_rule() -> None:
    # Given one row of each kind of defect
    prices = with_rows(
        two_assets(),
        [
            {"date": "??", "symbol": "AAA", "close": 1.0},  # unparseable date
            {"date": DATES[1].date().isoformat(), "symbol": None, "close": 1.0},  # no symbol
            {"date": DATES[1].date().isoformat(), "symbol": "AAA", "close": -1.0},  # bad price
            {"date": DATES[2].date().isoformat(), "symbol": "BBB", "close": 12.5},  # duplicate
        ],
    )
    # When
    panel = load_panel(ScenarioData(prices=prices), ScenarioParams())
    # Then every input row is either used or counted as dropped
    used = int(np.isfinite(panel["close"]).sum())
    assert panel.log.rows_in == len(prices) == 14
    assert panel.log.rows_dropped == 4
    assert used + panel.log.rows_dropped == panel.log.rows_in
    assert panel["close"][2, 1] == 12.5  # the duplicate keeps the last row


@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_all_dates_unparseable_names_the_prices() -> None:
    # Given
    prices = two_assets().assign(date="n/a")
    # When / Then
    with pytest.raises(ScenarioInputError) as err:
        load_panel(ScenarioData(prices=prices), ScenarioParams())
    assert err.value.field == "prices"
    assert "parseable date" in str(err.value)


def test_a_delisted_asset_counts_its_real_rows_only() -> None:
    # Given DEAD trading 9 of the first 10 sessions of 20, and a one-day gap in AAA
    dates = pd.bdate_range("2024-01-01", periods=20)
    prices = pd.concat(
        [
            pd.DataFrame({"date": dates.delete(5), "symbol": "AAA", "close": 1.0}),
            pd.DataFrame({"date": dates[:10].delete(3), "symbol": "DEAD", "close": 2.0}),
        ],
        ignore_index=True,
    )
    # When
    panel = load_panel(ScenarioData(prices=prices), ScenarioParams())
    # Then DEAD's 9 rows are dropped (not the 20 sessions its filled column used to span)
    assert panel.symbols.tolist() == ["AAA"]
    assert panel.log.dropped == {"DEAD": "halted or delisted: last price 2024-01-12"}
    assert (panel.log.rows_in, panel.log.rows_dropped) == (28, 9)
    assert "1 missing sessions (halts, missing rows) forward-filled from last close" in (
        panel.log.notes
    )
    assert panel["close"][5, 0] == 1.0


def test_unusable_sentiment_rows_are_counted() -> None:
    # Given one numeric row per symbol and two unusable AAA rows (text score, no mentions)
    sentiment = pd.DataFrame(
        {
            "date": [DATES[1], DATES[2], DATES[3], DATES[3]],
            "symbol": ["AAA", "AAA", "AAA", "BBB"],
            "score": [0.5, "bullish", 0.2, -0.4],
            "mentions": [2.0, 3.0, None, 1.0],
        }
    )
    log = QualityLog()
    # When
    weighted, mentions = sentiment_panel(sentiment, DATES, ["AAA", "BBB"], log)
    # Then the usable rows are placed, the others counted and named
    np.testing.assert_array_equal(mentions.sum(axis=0), [2.0, 1.0])
    np.testing.assert_array_equal(weighted.sum(axis=0), [1.0, -0.4])
    assert log.notes == ["2 sentiment rows without a numeric score/mentions dropped (AAA: 2)"]


def test_unusable_earnings_rows_are_counted() -> None:
    # Given an announcement without an estimate
    earnings = pd.DataFrame(
        {
            "symbol": ["AAA", "AAA", "BBB"],
            "report_date": [DATES[0], DATES[1], DATES[1]],
            "fiscal_period": ["Q1", "Q2", "Q2"],
            "eps_actual": [1.0, 1.1, 2.0],
            "eps_estimate": [1.0, None, "n/a"],
        }
    )
    log = QualityLog()
    # When
    known = earnings_as_of(earnings, ["AAA", "BBB"], DATES[-1], log)
    # Then
    assert known["fiscal_period"].tolist() == ["Q1"]
    assert log.notes == [
        "2 announcements without a numeric EPS actual/estimate dropped (AAA: 1, BBB: 1)"
    ]
