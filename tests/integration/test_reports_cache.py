"""Reports, exports and the result cache on the real local stack: links that download, a
repeated request answered at once by a cached run, ``fresh`` computing again, the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.conftest import Stack

pytestmark = pytest.mark.integration

#: params no other integration test uses, so the first request here is a cache miss
REQUEST = {"scenario_id": "trend_strength", "params": {"sector": "Information Technology"}}


@pytest.fixture(scope="module")
def client(stack: Stack) -> Any:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


def follow(client: httpx.Client, accepted: dict[str, Any]) -> list[dict[str, Any]]:
    with connect_sse(client, "GET", accepted["stream_url"]) as source:
        return [json.loads(sse.data) for sse in source.iter_sse() if sse.data]


def download(client: httpx.Client, path: str) -> tuple[dict[str, Any], bytes]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    link = response.json()
    file = httpx.get(link["url"], timeout=30)  # no bearer: the link is the credential
    assert file.status_code == 200, file.text
    return link, file.content


def test_report_exports_and_cache_end_to_end(client: httpx.Client, stack: Stack) -> None:
    first = client.post("/analysis/run", json=REQUEST).json()
    assert first["cached"] is False
    follow(client, first)
    run = client.get(first["status_url"]).json()
    assert run["status"] == "succeeded", run["error"]

    # the report: self-contained HTML with the run's snapshot ids
    _, report = download(client, f"/analysis/runs/{first['run_id']}/report")
    page = report.decode()
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert run["manifest"]["data_snapshots"]["prices"] in page
    # the CSV export: every row of the result
    link, body = download(client, f"/analysis/runs/{first['run_id']}/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["symbol"] for r in rows] == [r["symbol"] for r in run["result"]["rows"]]
    assert link["manifest"] == run["manifest"]
    bad = client.get(f"/analysis/runs/{first['run_id']}/export?format=xml")
    assert (bad.status_code, bad.json()["field"]) == (400, "format")

    # the same request again: answered at once from the cache, one terminal event
    again = client.post("/analysis/run", json=REQUEST).json()
    assert (again["cached"], again["cached_from"], again["status"]) == (
        True,
        first["run_id"],
        "succeeded",
    )
    events = follow(client, again)
    assert [(e["seq"], e["event"], e["status"]) for e in events] == [(1, "status", "succeeded")]
    cached = client.get(again["status_url"]).json()
    assert cached["result"] == run["result"] and cached["cached_from"] == first["run_id"]
    listed = client.get("/analysis/runs?limit=5").json()["runs"]
    assert {"run_id": again["run_id"], "cached": True} in [
        {"run_id": r["run_id"], "cached": r["cached"]} for r in listed
    ]
    _, cached_report = download(client, f"/analysis/runs/{again['run_id']}/report")
    assert cached_report == report

    # fresh: computed again, through running
    fresh = client.post("/analysis/run", json={**REQUEST, "fresh": True}).json()
    assert fresh["cached"] is False
    assert "running" in [e["status"] for e in follow(client, fresh)]

    # the CLI saves the report and an export
    cli = str(Path(sys.executable).parent / "quantdesk")
    folder = stack.log.parent
    for args in (["report"], ["export", "--format", "json"]):
        out = folder / f"{args[0]}.out"
        command = [cli, *args, fresh["run_id"], "-o", str(out), "--url", stack.base_url]
        subprocess.run(command, check=True, timeout=60)
    assert (folder / "report.out").read_text().startswith("<!doctype html>")
    exported = json.loads((folder / "export.out").read_text())
    assert exported["rows"] == run["result"]["rows"]
