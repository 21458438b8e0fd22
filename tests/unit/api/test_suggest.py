"""POST /analysis/suggest through the Chalice app (the real, registered catalogue)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scenarios.registry import SCENARIO_IDS


def post(api: Any, body: Any, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
    payload = raw if raw is not None else json.dumps(body).encode()
    response = api.post(
        "/analysis/suggest", body=payload, headers={"Content-Type": "application/json"}
    )
    return response.status_code, json.loads(response.body)


def test_suggest_returns_the_documented_shape(api: Any) -> None:
    # Given a prompt naming a scenario's jargon, tickers and a horizon
    status, body = post(api, {"prompt": "Strongest trends (ADX) in $AAPL and MSFT, 6 months"})
    # Then
    assert status == 200
    assert set(body) == {
        "prompt", "suggestions", "understood", "no_confident_match", "engine", "suggest_id",
    }  # fmt: skip
    assert len(body["suggest_id"]) == 26
    assert body["no_confident_match"] is False
    card = body["suggestions"][0]
    assert set(card) == {
        "rank", "scenario_id", "title", "description", "score", "raw_score", "matched_terms",
        "why", "deliverables", "params",
    }  # fmt: skip
    assert card["scenario_id"] in SCENARIO_IDS
    assert card["rank"] == 1 and 0 <= card["score"] <= 1
    assert set(card["matched_terms"][0]) == {"term", "field", "contribution"}
    assert card["params"]["tickers"] == ["AAPL", "MSFT"]
    assert body["understood"] == {
        "tickers": ["AAPL", "MSFT"], "universe": None, "sector": None,
        "horizon_days": 183, "risk": None, "unmatched": [],
    }  # fmt: skip
    assert set(body["engine"]) == {
        "provider", "model", "version", "prompt_hash", "latency_ms", "fallback", "fallback_reason",
    }  # fmt: skip
    assert body["engine"]["provider"] == "local"


def test_limit_and_profile(api: Any) -> None:
    status, body = post(
        api,
        {"prompt": "trend volatility oversold", "limit": 1, "profile": {"risk_appetite": "low"}},
    )
    assert status == 200
    assert len(body["suggestions"]) == 1


def test_off_topic_prompt_is_flagged(api: Any) -> None:
    status, body = post(api, {"prompt": "what's the weather like in Lisbon tomorrow?"})
    assert status == 200
    assert body["no_confident_match"] is True
    assert body["suggestions"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   \n\t "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": ["trend"]}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({"prompt": "trend", "limit": 0}, "limit"),
        ({"prompt": "trend", "limit": 21}, "limit"),
        ({"prompt": "trend", "limit": "5"}, "limit"),
        ({"prompt": "trend", "profile": {"favourite_colour": "blue"}}, "profile.favourite_colour"),
        ({"prompt": "trend", "profile": {"universe": "mars"}}, "profile.universe"),
        ({"prompt": "trend", "profile": "low risk"}, "profile"),
        ({"prompt": "trend", "surprise": True}, "surprise"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api: Any, body: Any, field: str) -> None:
    status, error = post(api, body)
    assert status == 400
    assert error["code"] == "invalid_request"
    assert error["field"] == field


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"trend"', b"\xff\xfe"])
def test_unparseable_bodies_are_a_400(api: Any, raw: bytes) -> None:
    status, error = post(api, None, raw=raw)
    assert status == 400
    assert error["field"] == "body"


def test_hostile_text_is_ranked_and_never_reflected_raw(api: Any) -> None:
    prompt = "<script>alert(1)</script> '; DROP TABLE runs; -- 📉 volatility regime"
    status, body = post(api, {"prompt": prompt})
    assert status == 200
    assert body["suggestions"], "still ranked on its finance words"
    text = json.dumps(body)
    assert "<script>" not in text
    assert body["prompt"].startswith("&lt;script&gt;")
    assert "&#x27;; DROP TABLE" in body["prompt"]


def test_prompt_of_exactly_2000_characters_is_accepted(api: Any) -> None:
    status, _ = post(api, {"prompt": ("trend " * 400)[:2000]})
    assert status == 200
