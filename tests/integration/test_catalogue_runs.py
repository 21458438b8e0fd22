"""Every scenario in the catalogue runs end to end on the sample data with its defaults."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from scenarios.registry import SCENARIO_IDS
from tests.conftest import Stack

pytestmark = pytest.mark.integration


def run_to_end(client: httpx.Client, scenario_id: str, params: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/analysis/run", json={"scenario_id": scenario_id, "params": params, "fresh": True}
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    with connect_sse(client, "GET", accepted["stream_url"]) as source:
        last = [json.loads(e.data) for e in source.iter_sse() if e.data][-1]
    run: dict[str, Any] = client.get(accepted["status_url"]).json()
    assert run["status"] == last["status"]
    return run


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_scenario_succeeds_with_defaults(stack: Stack, scenario_id: str) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        run = run_to_end(client, scenario_id, {})
    assert run["status"] == "succeeded", run["error"]
    result = run["result"]
    assert result["scenario_id"] == scenario_id
    assert result["rows"] and result["summary"]
    names = {c["name"] for c in result["columns"]}
    assert set(result["rows"][0]) <= names | {"symbol"}
    assert result["narrative"]


def test_sector_filter_restricts_the_universe(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        run = run_to_end(client, "trend_strength", {"sector": "Energy", "universe": "us_all"})
    assert run["status"] == "succeeded", run["error"]
    assert 0 < len(run["result"]["rows"]) < 30
