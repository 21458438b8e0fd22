"""Sharded scenario runs end to end on the local stack: its scenario-run state machine plans,
fans out over a Distributed Map (moto's interpreter plus ``infrastructure.local.distributed_map``)
and reduces; the stored result equals the single worker's on the same data, the stream reports
shards done / total, and a cancel mid-map ends the run cancelled. A bulk files load fans out
over its landing prefix the same way, quarantines a broken file and publishes once.

The stack is this module's own: a threshold of 10 assets and shards of 3 split the sample's
large caps into many shards (the session stack keeps the default threshold).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.results import ResultStore
from quantdesk.runs.service import queued_run
from quantdesk.runs.worker_job import execute
from quantdesk.settings import get_settings
from scenarios.registry import get_spec
from tests.own_tickers import ingest_files, own_prices
from tests.stack import TEST_ENV, Stack, running_stack, stack_clients

pytestmark = pytest.mark.integration

SHARD_ENV = {**TEST_ENV, "QD_SHARD_THRESHOLD_ASSETS": "10", "QD_MAX_SHARD_ASSETS": "3"}
DONE = re.compile(r"^(\d+)/(\d+) shards done")


@pytest.fixture(scope="module")
def sharding_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log: Path = tmp_path_factory.mktemp("sharded") / "stack.log"
    with running_stack(log, extra_env=SHARD_ENV, timeout_s=240) as stack:
        yield stack


@pytest.fixture(scope="module")
def client(sharding_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sharding_stack.base_url, timeout=60) as c:
        yield c


def start(client: httpx.Client, params: dict[str, Any]) -> dict[str, Any]:
    body = {"scenario_id": "trend_strength", "params": params, "fresh": True}
    response = client.post("/analysis/run", json=body)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def events(client: httpx.Client, accepted: dict[str, Any]) -> list[dict[str, Any]]:
    with connect_sse(client, "GET", accepted["stream_url"]) as source:
        return [json.loads(e.data) for e in source.iter_sse() if e.data]


def shard_counts(stream: list[dict[str, Any]]) -> list[tuple[int, int]]:
    messages = [e["progress"]["message"] for e in stream if e["event"] == "progress"]
    return [(int(m[1]), int(m[2])) for m in map(DONE.match, messages) if m]


def single_worker_result(stack: Stack, params: dict[str, Any]) -> dict[str, Any]:
    """The single worker's job on the stack's data (this process, the stack's endpoint)."""
    spec = get_spec("trend_strength")
    assert spec is not None
    with stack_clients(stack):
        settings = get_settings()
        run = queued_run("single-reference", "local", spec, params, code_version="test")
        RunRepository(settings.table_name).create(run.model_copy(update={"status": "running"}))
        stored = execute(run.run_id, "trend_strength", params, settings)
        return ResultStore(settings.results_bucket).get(stored["result_key"])


def test_a_sharded_run_equals_the_single_worker_and_reports_shards(
    sharding_stack: Stack, client: httpx.Client
) -> None:
    params = {"universe": "us_large_cap", "momentum_lookback": 126}
    # When a run over more assets than the threshold runs
    accepted = start(client, params)
    stream = events(client, accepted)
    run = client.get(accepted["status_url"]).json()
    # Then it succeeded through several shards, reported as done / total as they finished
    # (counts only grow), then all of them combined
    assert run["status"] == "succeeded", run["error"]
    counts = shard_counts(stream)
    total = counts[-1][1]
    assert total >= 4
    assert counts[0] == (0, total)
    assert counts[-1] == (total, total)
    assert len(counts) >= 3  # the plan's 0/N, at least one shard's count, the reduce's N/N
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)
    assert run["manifest"]["timings"]["shards"] == total
    # and its stored result is the single worker's on the same data and parameters
    assert run["result"] == single_worker_result(sharding_stack, params)


def test_cancel_mid_map_ends_the_run_cancelled(sharding_stack: Stack, client: httpx.Client) -> None:
    accepted = start(client, {"universe": "us_large_cap"})
    run_id = accepted["run_id"]
    seen: list[dict[str, Any]] = []

    def follow() -> None:
        with httpx.Client(base_url=sharding_stack.base_url, timeout=60) as own:
            seen.extend(events(own, accepted))

    follower = threading.Thread(target=follow)
    follower.start()
    # When the user cancels once the first shard is done
    deadline = time.monotonic() + 60
    while not any(c[0] >= 1 for c in shard_counts(list(seen))):
        view = client.get(accepted["status_url"]).json()
        progress = (view.get("progress") or {}).get("message", "")
        if DONE.match(progress) and not progress.startswith("0/"):
            break
        assert view["status"] in ("queued", "running"), view
        assert time.monotonic() < deadline, "no shard finished"
        time.sleep(0.05)
    response = client.post(f"/analysis/runs/{run_id}/cancel")
    assert response.status_code == 200, response.text
    follower.join(timeout=60)
    # Then the run ends cancelled, with no result, its stream closed on the cancel, and the
    # execution (with its map's shards) stopped
    run = client.get(accepted["status_url"]).json()
    assert run["status"] == "cancelled"
    assert run["result"] is None
    assert seen[-1]["status"] == "cancelled"
    sfn = sharding_stack.client("stepfunctions")
    arn = sharding_stack.outputs["ScenarioRunStateMachineArn"].replace(
        ":stateMachine:", ":execution:"
    )
    deadline = time.monotonic() + 30
    while (status := sfn.describe_execution(executionArn=f"{arn}:{run_id}")["status"]) == "RUNNING":
        assert time.monotonic() < deadline, "the execution still runs"
        time.sleep(0.1)
    assert status == "ABORTED"
    done, total = max(shard_counts(seen), default=(0, 1))
    assert done < total, "the map had finished before the cancel"


def test_a_bulk_load_quarantines_the_bad_file_and_publishes_once(
    sharding_stack: Stack, tmp_path: Path
) -> None:
    # Given a folder of per-symbol price files of tickers the lake does not know, one broken
    folder = tmp_path / "bulk_prices"
    folder.mkdir()
    symbols = [f"BLK{chr(ord('A') + i)}" for i in range(12)]
    for symbol in symbols:
        (folder / f"{symbol}.csv").write_text(own_prices((symbol,), days=40))
    (folder / "BROKEN.parquet").write_bytes(b"PAR1 this is not parquet")
    with stack_clients(sharding_stack):
        before = len(SnapshotRepository(get_settings().table_name).history("prices"))
    # When it is loaded in bulk (the ingestion workflow's Distributed Map)
    loaded = ingest_files(sharding_stack, folder, "--bulk")
    # Then the good files landed, the broken one is reported, one prices snapshot was published
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "SUCCEEDED_WITH_WARNINGS" in loaded.stdout, loaded.stdout
    assert "file BROKEN.parquet: unreadable" in loaded.stdout, loaded.stdout
    assert "registered 12 new symbol(s) in universe bulk_prices" in loaded.stdout, loaded.stdout
    with stack_clients(sharding_stack):
        history = SnapshotRepository(get_settings().table_name).history("prices")
        assert len(history) == before + 1, loaded.stdout
        manifest = load_manifest(LakeObjectStore(get_settings().data_bucket), history[-1])
        assert set(symbols) <= set(manifest.symbols)
