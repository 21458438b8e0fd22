from __future__ import annotations

import pytest

from quantdesk.ranking.entities import extract
from quantdesk.ranking.params import prefill
from scenarios.base import ScenarioParams
from tests.unit.ranking.conftest import TODAY, DaysParams, WindowParams


@pytest.mark.parametrize(
    ("prompt", "tickers"),
    [
        ("trend in AAPL, $msft and BRK.B", ("AAPL", "MSFT", "BRK.B")),
        ("PEAD and EPS surprises for the S&P 500 YTD", ()),
        ("compare NVDA vs AMD", ("NVDA", "AMD")),
        ("SHOW ME MOMENTUM IN AAPL AND MSFT", ()),  # shouting: only $-tickers count
        ("SHOW ME MOMENTUM IN $AAPL", ("AAPL",)),
        ("low vol via the VIX and RSI", ()),
        ("'; DROP TABLE runs; -- <script>alert(1)</script>", ()),
    ],
)
def test_tickers(prompt: str, tickers: tuple[str, ...]) -> None:
    assert extract(prompt, TODAY).tickers == tickers


@pytest.mark.parametrize(
    ("prompt", "universe"),
    [
        ("S&P 500 names", "us_large_cap"),
        ("s and p 500", "us_large_cap"),
        ("large-cap tech", "us_large_cap"),
        ("mid caps", "us_mid_cap"),
        ("Russell 2000 breakouts", "us_small_cap"),
        ("small caps vs large caps", "us_small_cap"),  # the first mentioned wins
        ("across the whole market", "us_all"),
        ("momentum", None),
    ],
)
def test_universes_map_to_frame_ids(prompt: str, universe: str | None) -> None:
    assert extract(prompt, TODAY).universe == universe


@pytest.mark.parametrize(
    ("prompt", "sector"),
    [
        ("tech stocks", "Information Technology"),
        ("regional banks", "Financials"),
        ("biotech", "Health Care"),
        ("oil and gas producers", "Energy"),
        ("REITs", "Real Estate"),
        ("retail investors on social media", None),
        ("sensitivity to oil prices", None),
    ],
)
def test_sectors_map_to_gics_names(prompt: str, sector: str | None) -> None:
    assert extract(prompt, TODAY).sector == sector


@pytest.mark.parametrize(
    ("prompt", "days"),
    [
        ("over 3 months", 91),
        ("six-month momentum", 183),
        ("the last 2 weeks", 14),
        ("1y", 365),
        ("past year", 365),
        ("next quarter", 91),
        ("YTD", (TODAY - TODAY.replace(month=1, day=1)).days),
        ("52-week highs", None),
        ("200-day moving average", None),
        ("and nothing else", None),
    ],
)
def test_horizons_in_calendar_days(prompt: str, days: int | None) -> None:
    assert extract(prompt, TODAY).horizon_days == days


@pytest.mark.parametrize(
    ("prompt", "risk"),
    [
        ("conservative low-risk ideas", "low"),
        ("something aggressive", "high"),
        ("a balanced view", "medium"),
        ("momentum", None),
    ],
)
def test_risk_words(prompt: str, risk: str | None) -> None:
    assert extract(prompt, TODAY).risk == risk


def test_prefill_validates_and_converts_horizons() -> None:
    # Given a lookback counted in trading sessions / When 6 months (183 days) / Then 126
    params = prefill(
        WindowParams, tickers=["aapl"], universe="us_small_cap", sector="Energy",
        horizon_days=183, risk="low",
    )  # fmt: skip
    assert params == {"tickers": ["AAPL"], "sector": "Energy", "lookback": 126}


def test_prefill_drops_what_does_not_validate() -> None:
    # 3 years is beyond DaysParams.horizon_days (le=400); a bad ticker fails the pattern
    params = prefill(
        DaysParams, tickers=["not a ticker!"], universe=None, sector=None,
        horizon_days=1095, risk="high",
    )  # fmt: skip
    assert params == {"risk_level": "high"}


def test_prefill_uses_calendar_days_for_day_fields_and_universe_without_tickers() -> None:
    params = prefill(
        DaysParams, tickers=[], universe="us_mid_cap", sector=None, horizon_days=91, risk=None
    )
    assert params == {"universe": "us_mid_cap", "horizon_days": 91}


def test_prefill_ignores_inputs_the_scenario_lacks() -> None:
    params = prefill(
        ScenarioParams, tickers=[], universe=None, sector=None, horizon_days=30, risk="low"
    )
    assert params == {}


@pytest.mark.parametrize(
    ("prompt", "tickers"),
    [
        ("A", ()),  # one letter: only as $A
        ("$A and $IT", ("A", "IT")),
        ("is IT a buy? ALL of it", ()),  # English words in capitals are not tickers
        ("CAR and FUN", ()),  # common words that double as tickers need a $
        ("HELLO", ()),  # common English words in capitals are not tickers
        ("HELLO, how is NVDA doing", ("NVDA",)),
        ("$HELLO", ("HELLO",)),
        ("KO vs PEP", ("KO", "PEP")),
    ],
)
def test_the_ticker_rule_keeps_english_words_out(prompt: str, tickers: tuple[str, ...]) -> None:
    assert extract(prompt, TODAY).tickers == tickers
