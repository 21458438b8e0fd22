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
