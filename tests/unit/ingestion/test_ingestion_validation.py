"""Validation rules on tiny hand-made frames: every rejected row says why."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from infrastructure import resources
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.validation import validate

TODAY = dt.date(2024, 6, 28)


def _reasons(dataset: str, rows: list[dict], known: set[str] | None = None) -> list[str]:
    _, bad, _ = validate(dataset, pd.DataFrame(rows), today=TODAY, known_symbols=known)
    reasons = dict(zip(bad["row"], bad["reason"], strict=True))
    return [reasons.get(i, "ok") for i in range(len(rows))]


def test_sentiment_scores_must_lie_in_minus_one_to_one() -> None:
    rows = [
        {"date": "2024-01-02", "symbol": "AAA", "score": 0.2, "mentions": 3},
        {"date": "2024-01-02", "symbol": "BBB", "score": 1.5, "mentions": 3},
        {"date": "2024-01-02", "symbol": "CCC", "score": 0.1, "mentions": -1},
    ]
    assert _reasons("sentiment", rows) == ["ok", "score_out_of_range", "negative_mentions"]


def test_fundamentals_cannot_be_reported_before_the_period_ends() -> None:
    base = {
        "symbol": "AAA",
        "revenue": 1,
        "net_income": 1,
        "book_equity": 1,
        "total_assets": 1,
        "total_debt": 1,
        "shares_outstanding": 10,
    }
    rows = [
        {**base, "period_end": "2024-03-31", "report_date": "2024-04-30"},
        {**base, "period_end": "2023-12-31", "report_date": "2023-12-01"},
        {**base, "period_end": "2023-09-30", "report_date": "2023-10-30", "shares_outstanding": 0},
    ]
    assert _reasons("fundamentals", rows) == [
        "ok",
        "report_before_period_end",
        "non_positive_shares",
    ]


def test_earnings_fiscal_period_format() -> None:
    rows = [
        {
            "symbol": "AAA",
            "report_date": "2024-02-01",
            "fiscal_period": "2023Q4",
            "eps_actual": 1.0,
            "eps_estimate": 0.9,
        },
        {
            "symbol": "AAA",
            "report_date": "2024-05-01",
            "fiscal_period": "Q1-24",
            "eps_actual": 1.0,
            "eps_estimate": 0.9,
        },
    ]
    assert _reasons("earnings", rows) == ["ok", "invalid_fiscal_period"]


def test_reference_data_values_are_checked() -> None:
    universe = [
        {"universe": "us_all", "symbol": "AAA", "start_date": "2020-01-01", "end_date": None},
        {"universe": "Moon Base", "symbol": "AAA", "start_date": "2020-01-01", "end_date": None},
        {
            "universe": "us_all",
            "symbol": "BBB",
            "start_date": "2021-01-01",
            "end_date": "2020-01-01",
        },
    ]
    assert _reasons("universe", universe) == ["ok", "invalid_universe", "end_before_start"]
    sectors = [
        {"symbol": "AAA", "sector": "Energy", "industry": "Oil"},
        {"symbol": "BBB", "sector": "Crypto", "industry": "Coins"},
    ]
    assert _reasons("sectors", sectors) == ["ok", "unknown_sector"]
    macro = [
        {"date": "2024-01-02", "series": "oil", "value": 70, "release_date": "2024-01-10"},
        {"date": "2024-01-02", "series": "gold", "value": 2000, "release_date": "2024-01-10"},
    ]
    assert _reasons("macro", macro) == ["ok", "unknown_series"]


def test_macro_rows_need_a_release_date_on_or_after_the_reference_date() -> None:
    cpi = {"date": "2024-01-01", "series": "inflation", "value": 3.1}
    macro = [
        {**cpi, "release_date": "2024-02-13"},
        {**cpi, "date": "2024-02-01", "release_date": None},
        {**cpi, "date": "2024-03-01", "release_date": "2024-02-28"},
        {**cpi, "date": "2024-04-01", "release_date": "2099-05-15"},
        {**cpi, "date": "2024-05-01", "release_date": "soon"},
    ]
    assert _reasons("macro", macro) == [
        "ok",
        "missing_release_date",
        "release_before_date",
        "future_date",
        "invalid_release_date",
    ]


def test_conflicting_duplicates_are_all_quarantined_exact_ones_keep_the_first() -> None:
    row = {
        "date": "2024-01-02",
        "symbol": "AAA",
        "open": 10,
        "high": 11,
        "low": 9,
        "close": 10,
        "volume": 1,
    }
    rows = [row, row, {**row, "close": 10.5}, {**row, "date": "2024-01-03"}]
    assert _reasons("prices", rows) == [
        "conflicting_duplicate",
        "duplicate_row",
        "conflicting_duplicate",
        "ok",
    ]


def test_symbols_are_normalised_and_checked() -> None:
    row = {"date": "2024-01-02", "open": 10, "high": 11, "low": 9, "close": 10, "volume": 1}
    rows = [
        {**row, "symbol": " $aaa "},
        {**row, "symbol": "not a ticker"},
        {**row, "symbol": "ZZZ"},
    ]
    good, _, _ = validate("prices", pd.DataFrame(rows), today=TODAY, known_symbols={"AAA"})
    # prices of a symbol the lake does not know are valid: the pipeline registers it
    assert good["symbol"].tolist() == ["AAA", "ZZZ"]
    assert _reasons("prices", rows, known={"AAA"})[1:] == ["invalid_symbol", "ok"]
    sentiment = [{"date": "2024-01-02", "symbol": s, "score": 0.1, "mentions": 1} for s in "AZ"]
    assert _reasons("sentiment", sentiment, known={"A"}) == ["ok", "unknown_symbol"]
    _, _, report = validate("sentiment", pd.DataFrame(sentiment), today=TODAY, known_symbols={"A"})
    assert any("ingest their prices first" in note for note in report.notes)


def test_gaps_are_reported_as_notes_not_rejections() -> None:
    days = pd.bdate_range("2024-01-01", periods=12)
    rows = [
        {"date": d, "symbol": s, "open": 10, "high": 11, "low": 9, "close": 10, "volume": 1}
        for d in days
        for s in ("AAA", "BBB")
        if not (s == "BBB" and 3 <= days.get_loc(d) <= 8)
    ]
    good, bad, report = validate("prices", pd.DataFrame(rows), today=TODAY)
    assert bad.empty and len(good) == len(rows)
    (gap,) = report.gaps
    assert (gap.symbol, gap.missing_days) == ("BBB", 6)
    assert gap.after == days[2].date() and gap.resumed == days[9].date()


def test_required_column_missing_rejects_every_row_with_one_error() -> None:
    good, bad, report = validate("macro", pd.DataFrame({"date": ["2024-01-02"]}), today=TODAY)
    assert good.empty and len(bad) == 1
    assert report.errors and "series" in report.errors[0]
    assert bad["reason"].iloc[0] == "missing_columns:series,value,release_date"


@pytest.mark.parametrize("schedule", resources.INGESTION_SCHEDULES, ids=lambda s: s.name)
def test_schedule_inputs_are_valid_fetch_requests(schedule: resources.Schedule) -> None:
    assert schedule.state_machine == resources.INGESTION.name
    for source in schedule.input["sources"]:
        FetchRequest.model_validate(source)
