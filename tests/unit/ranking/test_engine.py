from __future__ import annotations

import hashlib
import html

import pytest

from quantdesk.ranking.engine import RANKER_VERSION, Catalogue, suggest
from quantdesk.ranking.models import Profile, SuggestRequest
from quantdesk.ranking.settings import RankingSettings
from tests.unit.ranking.conftest import TODAY

SETTINGS = RankingSettings()


def ask(catalogue: Catalogue, prompt: str, **kwargs: object):  # type: ignore[no-untyped-def]
    request = SuggestRequest.model_validate({"prompt": prompt, **kwargs})
    return suggest(request, SETTINGS, catalogue=catalogue, today=TODAY)


def test_cards_carry_score_terms_why_deliverables_and_params(catalogue: Catalogue) -> None:
    response = ask(catalogue, "PEAD for $AAPL and MSFT over the last 6 months in large caps")
    top = response.suggestions[0]
    assert top.rank == 1
    assert top.scenario_id == "earnings_drift"
    assert 0 < top.score < 1
    assert top.raw_score > SETTINGS.min_score
    assert top.matched_terms[0].term == "pead"
    assert top.why.startswith('Matches "pead"')
    assert top.deliverables == ["Table of surprises", "Drift chart"]
    # tickers win over the universe; 6 months = 126 trading sessions
    assert top.params == {"tickers": ["AAPL", "MSFT"], "lookback": 126}
    assert response.understood.model_dump() == {
        "tickers": ["AAPL", "MSFT"],
        "universe": "us_large_cap",
        "sector": None,
        "horizon_days": 183,
        "risk": None,
        "unmatched": [],
    }
    assert [s.rank for s in response.suggestions] == list(range(1, len(response.suggestions) + 1))


def test_engine_provenance(catalogue: Catalogue) -> None:
    response = ask(catalogue, "cointegrated pairs")
    engine = response.engine
    assert engine.provider == "local"
    assert engine.model == "bm25f-lexicon"
    assert engine.version == f"{RANKER_VERSION}+{catalogue.index.fingerprint}"
    assert engine.prompt_hash == hashlib.sha256(b"cointegrated pairs").hexdigest()
    assert engine.latency_ms >= 0
    assert (engine.fallback, engine.fallback_reason) == (False, None)


@pytest.mark.parametrize(
    "prompt",
    ["what's the weather in Paris", "hello", "🙂", "asdfgh qwerty", "tell me a joke about cats"],
)
def test_off_topic_prompts_return_no_cards(catalogue: Catalogue, prompt: str) -> None:
    response = ask(catalogue, prompt)
    assert response.no_confident_match is True
    assert response.suggestions == []


def test_limit(catalogue: Catalogue) -> None:
    prompt = "volatility drawdown spread breakout rates pead"
    assert len(ask(catalogue, prompt, limit=2).suggestions) == 2
    assert len(ask(catalogue, prompt, limit=20).suggestions) == 6


def test_profile_shifts_scores_and_says_so(catalogue: Catalogue) -> None:
    prompt = "volatility and drawdown"
    plain = {s.scenario_id: s for s in ask(catalogue, prompt).suggestions}
    shifted = ask(catalogue, prompt, profile={"risk_appetite": "low"})
    for card in shifted.suggestions:
        if "profile" in card.why:
            assert card.raw_score > plain[card.scenario_id].raw_score
            assert "risk appetite low" in card.why
    assert any("profile" in card.why for card in shifted.suggestions)


def test_profile_fills_params_the_prompt_left_open(catalogue: Catalogue) -> None:
    profile = Profile(universe="us_mid_cap", horizon_days=90, risk_appetite="high")
    response = ask(catalogue, "cointegrated pairs", profile=profile.model_dump())
    assert response.suggestions[0].params == {
        "universe": "us_mid_cap",
        "horizon_days": 90,
        "risk_level": "high",
    }
    # the prompt wins over the profile
    response = ask(catalogue, "pairs in small caps", profile=profile.model_dump())
    assert response.suggestions[0].params["universe"] == "us_small_cap"


@pytest.mark.parametrize(
    "prompt",
    [
        "<script>alert('x')</script> pairs trading",
        "'; DROP TABLE scenarios; -- cointegration",
        '"quoted" & <b>bold</b> volatility',
        "📈🚀 breakout 日本株 52-week high",
    ],
)
def test_hostile_text_is_ranked_and_escaped(catalogue: Catalogue, prompt: str) -> None:
    response = ask(catalogue, prompt)
    assert response.suggestions, "the finance words still rank"
    dumped = response.model_dump_json()
    for raw in ("<script>", "<b>", "'; DROP", '"quoted"'):
        assert raw not in response.prompt
    assert "<" not in dumped.replace("\\u003c", "")
    assert (
        response.prompt.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        == prompt
    )
    assert response.prompt == html.escape(prompt, quote=True)


def test_same_request_same_ranking(catalogue: Catalogue) -> None:
    first = ask(catalogue, "tail risk and leverage red flags")
    again = ask(catalogue, "tail risk and leverage red flags")
    assert first.model_dump(exclude={"engine"}) == again.model_dump(exclude={"engine"})


def test_a_one_word_style_below_the_threshold_is_answered_as_a_clear_intent(
    catalogue: Catalogue,
) -> None:
    strict = RankingSettings(min_score=50.0)
    response = suggest(SuggestRequest(prompt="calm"), strict, catalogue=catalogue, today=TODAY)
    assert response.no_confident_match is False
    assert response.suggestions[0].scenario_id == "vol_regime"
    # the same prompt with one unknown word keeps the full threshold
    unknown = suggest(
        SuggestRequest(prompt="calm weather"), strict, catalogue=catalogue, today=TODAY
    )
    assert (unknown.no_confident_match, unknown.suggestions) == (True, [])
    assert unknown.understood.unmatched == ["weather"]
    # and below min_clear_score even a known word is no answer
    floor = RankingSettings(min_score=50.0, min_clear_score=50.0)
    assert suggest(
        SuggestRequest(prompt="calm"), floor, catalogue=catalogue, today=TODAY
    ).no_confident_match


@pytest.mark.parametrize(
    "prompt", ["AAPL", "tell me about $aapl", "how is AAPL doing", "AAPL overview"]
)
def test_a_prompt_naming_only_tickers_gets_the_per_asset_scenarios_prefilled(
    catalogue: Catalogue, prompt: str
) -> None:
    response = ask(catalogue, prompt)
    assert response.no_confident_match is False
    ids = [s.scenario_id for s in response.suggestions]
    assert ids[0] == "risk_flags"  # single-asset reads come first
    assert "vol_regime" in ids[:3]
    tickers = response.understood.tickers
    assert tickers[0] == "AAPL"
    for card in response.suggestions:
        assert card.params["tickers"] == tickers
    top = response.suggestions[0]
    assert top.why.startswith('Per-asset scenario for "AAPL"')
    assert "pre-filled" in top.why


def test_each_ticker_card_answers_one_per_asset_question_in_order() -> None:
    # the scenario about trend outranks one that mentions trend, risk and mean reversion at once
    from tests.unit.ranking.labelled import registered_catalogue  # noqa: PLC0415

    catalogue = registered_catalogue()
    one = [s.scenario_id for s in ask(catalogue, "AAPL").suggestions]
    two = ask(catalogue, "compare AAPL and MSFT")
    assert one[:3] == ["risk_watchlist", "trend_strength", "volatility_regime"]
    assert [s.scenario_id for s in two.suggestions[:3]] == [
        "risk_watchlist",
        "trend_strength",
        "pairs_cointegration",
    ]
    assert two.suggestions[1].matched_terms[0].term == "tickers ~ trend"


def test_two_tickers_also_look_for_how_they_move_together(catalogue: Catalogue) -> None:
    def pairs_score(prompt: str) -> float:
        cards = ask(catalogue, prompt).suggestions
        return next(s.raw_score for s in cards if s.scenario_id == "pairs")

    assert pairs_score("KO vs PEP") > pairs_score("KO")
    compared = ask(catalogue, "compare KO and PEP")
    top3 = {s.scenario_id for s in compared.suggestions[:3]}
    assert top3 == {"risk_flags", "vol_regime", "pairs"}
    assert all(s.params["tickers"] == ["KO", "PEP"] for s in compared.suggestions)


@pytest.mark.parametrize(
    "prompt",
    ["A", "ALL", "IT", "IT ALL", "HELLO", "THANKS", "OK COOL", "what's the weather in NYC"],
)
def test_english_words_in_capitals_are_no_tickers_and_get_no_cards(
    catalogue: Catalogue, prompt: str
) -> None:
    response = ask(catalogue, prompt)
    assert response.no_confident_match is True
    assert response.suggestions == []


def test_a_style_no_scenario_carries_is_answered_by_its_closest_and_says_so() -> None:
    from tests.unit.ranking.labelled import registered_catalogue  # noqa: PLC0415

    response = suggest(
        SuggestRequest(prompt="dividend stocks"),
        SETTINGS,
        catalogue=registered_catalogue(),
        today=TODAY,
    )
    top = response.suggestions[0]
    assert top.scenario_id == "factor_ladder"
    assert 'No scenario covers "dividend stocks" itself' in top.why
    assert all("~" in term.term for term in top.matched_terms)


def test_unknown_words_are_named_in_the_explanation(catalogue: Catalogue) -> None:
    response = ask(catalogue, "pairs cointegration spread hedge ratio for my grandmother")
    assert response.understood.unmatched == ["grandmother"]
    assert response.suggestions[0].why.endswith('Not matched: "grandmother".')
