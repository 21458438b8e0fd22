"""Prompt analytics through the API: a suggest, the run started from one of its cards, and
``GET /analysis/analytics``, per owner, over moto."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from quantdesk import aws
from quantdesk.settings import get_settings
from tests.unit.waiting_workflow import create_waiting_workflow

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def workflow(moto_aws: None) -> None:
    create_waiting_workflow()


def suggest(api: Any, prompt: str) -> dict[str, Any]:
    response = api.post("/analysis/suggest", body=json.dumps({"prompt": prompt}), headers=JSON)
    assert response.status_code == 200
    body: dict[str, Any] = json.loads(response.body)
    return body


def run_card(api: Any, body: dict[str, Any], rank: int, **edits: Any) -> str:
    card = body["suggestions"][rank - 1]
    request = {
        "scenario_id": card["scenario_id"],
        "params": {**card["params"], **edits},
        "provenance": {"prompt": "p", "rank": rank, "suggest_id": body["suggest_id"]},
    }
    response = api.post("/analysis/run", body=json.dumps(request), headers=JSON)
    assert response.status_code == 202, response.body
    run_id: str = json.loads(response.body)["run_id"]
    return run_id


def report(api: Any, query: str = "") -> dict[str, Any]:
    response = api.get(f"/analysis/analytics{query}")
    assert response.status_code == 200, response.body
    body: dict[str, Any] = json.loads(response.body)
    return body


def test_suggests_and_the_cards_chosen_are_aggregated(api: Any, workflow: None) -> None:
    # Given three prompts: one answered and its first card run, one answered and its second card
    # run with an edited param, one off-topic
    first = suggest(api, "AAPL")
    run_card(api, first, 1)
    second = suggest(api, "momentum")
    chosen = second["suggestions"][1]["scenario_id"]
    run_card(api, second, 2, as_of="2024-01-31")
    assert suggest(api, "what's the weather")["no_confident_match"] is True
    # When the owner reads today's analytics
    body = report(api)
    # Then
    today = dt.datetime.now(dt.UTC).date()
    assert (body["from_date"], body["to_date"]) == (
        (today - dt.timedelta(days=29)).isoformat(),
        today.isoformat(),
    )
    assert (body["prompts"], body["no_match"], body["followed"]) == (3, 1, 2)
    assert body["no_match_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert body["per_day"] == [{"date": today.isoformat(), "prompts": 3, "no_match": 1}]
    rates = {r["rank"]: (r["shown"], r["chosen"]) for r in body["choice_rate_by_rank"]}
    assert rates[1] == (2, 1) and rates[2] == (2, 1)
    assert body["most_edited_params"] == [{"scenario_id": chosen, "param": "as_of", "edits": 1}]
    assert body["outcomes"] == {"queued": 2}
    assert [(n["prompt"], n["chosen_rank"]) for n in body["not_first"]] == [("momentum", 2)]
    assert {(p["prompt"], p["top1"]) for p in body["pairs"]} == {
        ("AAPL", first["suggestions"][0]["scenario_id"]),
        ("momentum", chosen),
    }


def test_analytics_are_per_owner(api: Any, workflow: None) -> None:
    alices = suggest(api, "AAPL")
    mallory = api.as_user("mallory")
    # another user sees none of them...
    assert report(mallory)["prompts"] == 0
    # ...and cannot attach a choice to them: the run starts, the choice is not recorded
    run_card(mallory, alices, 1)
    assert report(api)["followed"] == 0
    assert report(mallory)["followed"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=yesterday", "from"),
        ("?to=2024-13-01", "to"),
        ("?from=2024-02-30", "from"),
        ("?from=2024-05-02&to=2024-05-01", "from"),
        ("?from=2020-01-01&to=2024-01-01", "from"),
        ("?since=2024-01-01", "since"),
    ],
)
def test_a_bad_window_is_a_400_naming_the_field(api: Any, query: str, field: str) -> None:
    response = api.get(f"/analysis/analytics{query}")
    assert response.status_code == 400
    problem = json.loads(response.body)
    assert (problem["code"], problem["field"]) == ("invalid_request", field)


def test_an_explicit_window(api: Any) -> None:
    suggest(api, "momentum")
    assert report(api, "?from=2020-01-01&to=2020-12-31")["prompts"] == 0
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert report(api, f"?from={today}&to={today}")["prompts"] == 1


def test_a_suggest_answers_even_when_it_cannot_be_recorded(api: Any) -> None:
    aws.client("dynamodb").delete_table(TableName=get_settings().table_name)
    body = suggest(api, "momentum")
    assert body["suggestions"]
    assert len(body["suggest_id"]) == 26
