"""Run routes through the Chalice app with API Gateway-shaped requests, against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings

JSON = {"Content-Type": "application/json"}


def post(api: Any, path: str, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return api.post(path, body=raw, headers=JSON)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[" * 5000 + "]" * 5000, 400, "body"),
        ('{"scenario_id": "' + "a" * 70_000 + '"}', 413, "body"),
        ("[1, 2]", 400, "body"),
        ("", 400, "body"),
        ({}, 400, "scenario_id"),
        ({"scenario_id": 7}, 400, "scenario_id"),
        ({"scenario_id": "Bad Id!"}, 400, "scenario_id"),
        ({"scenario_id": "no_such_scenario"}, 404, "scenario_id"),
        (
            {"scenario_id": "trend_strength", "params": {"universe": "Mars!"}},
            400,
            "params.universe",
        ),
        ({"scenario_id": "trend_strength", "params": {"bogus": 1}}, 400, "params.bogus"),
        ({"scenario_id": "trend_strength", "params": []}, 400, "params"),
        ({"scenario_id": "trend_strength", "surprise": True}, 400, "surprise"),
    ],
)
def test_bad_run_requests_get_a_4xx_naming_the_field(
    api: Any, body: Any, status: int, field: str
) -> None:
    # Given a malformed or invalid request / When it is posted
    response = post(api, "/analysis/run", body)
    # Then it is refused with the field named, and nothing was stored
    assert response.status_code == status
    problem = json.loads(response.body)
    assert problem["field"] == field
    assert problem["code"] in {"invalid_request", "not_found", "payload_too_large"}
    assert problem["message"]


def test_run_is_stored_queued_with_its_manifest_even_when_the_workflow_cannot_start(
    api: Any,
) -> None:
    # Given no state machine deployed (moto_aws creates only the table and buckets)
    # When a valid run is posted
    response = post(api, "/analysis/run", {"scenario_id": "trend_strength", "params": {}})
    # Then the client learns the service is unavailable...
    assert response.status_code == 503
    # ...and the run it created is kept, failed with the reason, not lost
    runs, _ = RunRepository(get_settings().table_name).list_for_owner("local", 10, None)
    assert [r.status for r in runs] == ["failed"]


def test_unknown_and_malformed_run_ids_are_404(api: Any) -> None:
    assert api.get("/analysis/runs/01aaaaaaaaaaaaaaaaaaaaaaaa").status_code == 404
    response = api.get("/analysis/runs/..%2F..%2Fetc")
    assert response.status_code == 404
    assert api.post("/analysis/runs/01aaaaaaaaaaaaaaaaaaaaaaaa/cancel").status_code == 404


def test_list_runs_validates_its_query(api: Any) -> None:
    assert api.get("/analysis/runs?limit=0").status_code == 400
    assert json.loads(api.get("/analysis/runs?limit=abc").body)["field"] == "limit"
    assert json.loads(api.get("/analysis/runs").body) == {"runs": [], "next_cursor": None}
    assert json.loads(api.get("/analysis/runs?cursor=%%%").body)["field"] == "cursor"


def test_idempotency_key_header_retries_a_failed_start_and_checks_its_spelling(api: Any) -> None:
    body = json.dumps({"scenario_id": "trend_strength", "params": {}})
    headers = {**JSON, "Idempotency-Key": '"order-7"'}
    # no state machine in moto_aws: the first attempt fails before its execution starts...
    assert api.post("/analysis/run", body=body, headers=headers).status_code == 503
    # ...so the retry with the same key is attempted again (a new run), not replayed as failed
    assert api.post("/analysis/run", body=body, headers=headers).status_code == 503
    runs, _ = RunRepository(get_settings().table_name).list_for_owner("local", 10, None)
    assert len(runs) == 2
    differing = json.dumps({"scenario_id": "trend_strength", "idempotency_key": "other"})
    response = api.post("/analysis/run", body=differing, headers=headers)
    assert (response.status_code, json.loads(response.body)["field"]) == (400, "idempotency_key")
    for bad in ("", "x" * 129, "a b"):
        response = api.post("/analysis/run", body=body, headers={**JSON, "Idempotency-Key": bad})
        assert response.status_code == 400, bad
        assert json.loads(response.body)["field"] == "Idempotency-Key"


def test_another_users_run_is_a_404_that_reveals_nothing(api: Any) -> None:
    body = json.dumps({"scenario_id": "trend_strength", "params": {}})
    api.post("/analysis/run", body=body, headers=JSON)
    runs, _ = RunRepository(get_settings().table_name).list_for_owner("local", 10, None)
    run_id = runs[0].run_id
    mallory = api.as_user("mallory")
    for method, path in (
        ("get", f"/analysis/runs/{run_id}"),
        ("post", f"/analysis/runs/{run_id}/cancel"),
    ):
        theirs = getattr(mallory, method)(path)
        missing = getattr(mallory, method)(path.replace(run_id, "0" * 26))
        assert theirs.status_code == missing.status_code == 404
        assert json.loads(theirs.body)["message"] == json.loads(missing.body)["message"].replace(
            "0" * 26, run_id
        )
    listed = json.loads(mallory.get("/analysis/runs").body)["runs"]
    assert listed == []


def test_without_verified_claims_a_run_route_is_a_401(moto_aws: None, api_client: Any) -> None:
    response = api_client.http.get("/analysis/runs")
    assert response.status_code == 401
    assert json.loads(response.body)["code"] == "unauthorized"
