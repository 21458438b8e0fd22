"""GET /analysis/scenarios[/{id}]: the catalogue as registered."""

from __future__ import annotations

import json

from chalice.test import Client

from scenarios.registry import specs


def test_list_serves_every_registered_scenario_with_its_schema(api_client: Client) -> None:
    response = api_client.http.get("/analysis/scenarios")
    assert response.status_code == 200
    cards = json.loads(response.body)["scenarios"]
    assert [c["scenario_id"] for c in cards] == list(specs())
    for card in cards:
        assert {
            "title",
            "description",
            "keywords",
            "deliverables",
            "methodology",
            "version",
        } <= set(card)
        assert card["inputs"]["type"] == "object"
        assert "universe" in card["inputs"]["properties"]
        assert "params_model" not in card


def test_one_scenario(api_client: Client) -> None:
    scenario_id = next(iter(specs()))
    response = api_client.http.get(f"/analysis/scenarios/{scenario_id}")
    assert response.status_code == 200
    assert json.loads(response.body)["scenario_id"] == scenario_id


def test_unknown_scenario_is_a_404_naming_the_field(api_client: Client) -> None:
    response = api_client.http.get("/analysis/scenarios/no_such_thing")
    assert response.status_code == 404
    assert json.loads(response.body) == {
        "code": "not_found",
        "message": "unknown scenario 'no_such_thing'",
        "field": "scenario_id",
    }


def test_unknown_id_is_not_reflected_raw(api_client: Client) -> None:
    response = api_client.http.get("/analysis/scenarios/%3Cscript%3E")
    assert response.status_code == 404
    assert "<script>" not in response.body.decode()
