"""The local cloud keeps its state across restarts: the real stack (``make up``'s command) is
killed with SIGKILL a moment after answering, or stopped with Ctrl-C (SIGINT), and started again
on the same state folder; what it acknowledged must still be served, and runs it was working on
must end (``failed``, "interrupted by a restart", or finished) with a terminal event on their
stream. A damaged state folder must not stop it from starting."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.stack import Stack, running_stack

pytestmark = pytest.mark.integration

TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


@contextmanager
def life(log: Path, state: Path, *args: str) -> Iterator[tuple[Stack, httpx.Client]]:
    """One start of the stack on ``state``, with a client for its origin."""
    with (
        running_stack(log, state_dir=state, args=args) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as client,
    ):
        yield stack, client


def stop(stack: Stack, how: signal.Signals) -> None:
    stack.process.send_signal(how)
    stack.process.wait(timeout=60)


def start_run(client: httpx.Client) -> dict[str, Any]:
    """POST a run; the 202 body (run id and stream URL)."""
    response = client.post(
        "/analysis/run", json={"scenario_id": "trend_strength", "params": {}, "fresh": True}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def describe(client: httpx.Client, run_id: str) -> dict[str, Any]:
    response = client.get(f"/analysis/runs/{run_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def settled(client: httpx.Client, run_id: str, timeout_s: float = 60) -> dict[str, Any]:
    """The run once it is terminal and its events are all projected."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = describe(client, run_id)
        seqs = [event["seq"] for event in run["timeline"]]
        if run["status"] in TERMINAL and seqs and seqs[-1] == run["event_seq"]:
            return run
        assert time.monotonic() < deadline, f"{run_id} still {run['status']}, events {seqs}"
        time.sleep(0.2)


def history(client: httpx.Client) -> set[str]:
    response = client.get("/analysis/runs", params={"limit": 100})
    assert response.status_code == 200, response.text
    return {run["run_id"] for run in response.json()["runs"]}


def streamed(client: httpx.Client, stream_url: str) -> list[tuple[int, str]]:
    """The run's stream from its start until the server closes it: (seq, status) pairs."""
    with connect_sse(client, "GET", stream_url, timeout=30) as source:
        assert source.response.status_code == 200
        return [(int(m.id), m.json()["status"]) for m in source.iter_sse() if m.data]


def assert_ended(run: dict[str, Any]) -> None:
    """Every event from 1 to the run's ``event_seq`` once, the last one terminal; a run the
    restart interrupted says so."""
    seqs = [event["seq"] for event in run["timeline"]]
    assert seqs == list(range(1, run["event_seq"] + 1)), seqs
    assert run["timeline"][-1]["status"] == run["status"]
    assert run["status"] in {"succeeded", "failed"}, run["status"]
    if run["status"] == "failed":
        assert run["error"] == {"type": "Interrupted", "message": "interrupted by a restart"}


def same_run(before: dict[str, Any], after: dict[str, Any]) -> None:
    for name in ("status", "event_seq", "timeline", "result", "manifest", "finished_at"):
        assert after[name] == before[name], name


def test_kill_and_ctrl_c_keep_what_was_acknowledged(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Given a first life: sample data ingested, three runs finished, five more answered 202
    with life(tmp_path / "first.log", state) as (stack, client):
        finished = {a["run_id"]: a for a in (start_run(client) for _ in range(3))}
        before = {run_id: settled(client, run_id) for run_id in finished}
        assert all(run["status"] == "succeeded" and run["result"] for run in before.values())
        in_flight = [start_run(client) for _ in range(5)]
        # When it is killed a moment after the last answer
        stop(stack, signal.SIGKILL)
    assert "sample data  ingestion" in (tmp_path / "first.log").read_text()

    # Then the second life serves all of it, and the runs in flight have ended
    with life(tmp_path / "second.log", state) as (stack, client):
        log = stack.log.read_text()
        assert "sample data  already loaded" in log, log
        for run_id, run in before.items():
            same_run(run, describe(client, run_id))
        everything = set(finished) | {a["run_id"] for a in in_flight}
        assert history(client) == everything
        for accepted in in_flight:
            assert_ended(settled(client, accepted["run_id"]))
            events = streamed(client, accepted["stream_url"])
            assert [seq for seq, _ in events] == list(range(1, len(events) + 1)), events
            assert events[-1][1] in TERMINAL
        interrupted = [a for a in in_flight if describe(client, a["run_id"])["status"] == "failed"]
        if interrupted:
            assert re.search(rf"{len(interrupted)} runs? in flight at the stop ended failed", log)
        ended = {a["run_id"]: describe(client, a["run_id"]) for a in in_flight}
        # When a run is under way as it is stopped with Ctrl-C
        late = start_run(client)
        stop(stack, signal.SIGINT)

    # Then a clean stop left nothing to replay, and everything is still there
    with life(tmp_path / "third.log", state) as (stack, client):
        log = stack.log.read_text()
        assert re.search(r"snapshot \d+ \+ 0 logged requests restored", log), log
        assert "not restored" not in log, log
        assert history(client) == everything | {late["run_id"]}
        for run_id, run in {**before, **ended}.items():
            same_run(run, describe(client, run_id))
        assert_ended(settled(client, late["run_id"]))
        # and the restored cloud still works
        fresh = settled(client, start_run(client)["run_id"])
        assert fresh["status"] == "succeeded", fresh


def test_a_damaged_state_folder_starts_with_what_could_be_restored(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Given runs kept by a clean stop (a snapshot) and one more kept only in the log
    with life(tmp_path / "first.log", state, "--no-sample") as (stack, client):
        kept = {run_id: settled(client, run_id) for run_id in [start_run(client)["run_id"]]}
        stop(stack, signal.SIGINT)
    with life(tmp_path / "second.log", state, "--no-sample") as (stack, client):
        later = start_run(client)["run_id"]
        settled(client, later)
        stop(stack, signal.SIGKILL)
    # When the snapshot is garbage, the newest log segment ends mid-record and the stream
    # positions are not JSON
    snapshots = sorted(state.glob("snapshot-*.bin"))
    assert snapshots, list(state.iterdir())
    snapshots[-1].write_bytes(b"\x00garbage" * 100)
    segment = max(state.glob("wal-*.log"))
    data = segment.read_bytes()
    assert data, "the second life logged nothing"
    segment.write_bytes(data[:-7])
    (state / "stream-positions.json").write_text("{not json")

    # Then it starts, says what it could not restore, and serves what it could
    with life(tmp_path / "third.log", state, "--no-sample") as (stack, client):
        log = stack.log.read_text()
        assert re.search(r"not restored: snapshot \d+ unreadable", log), log
        assert re.search(r"not restored: log segment \d+: stopped at a record cut off", log), log
        assert "not restored: stream positions unreadable" in log, log
        for run_id, run in kept.items():
            same_run(run, describe(client, run_id))
        assert later in history(client)
        assert settled(client, later)["status"] in TERMINAL
        assert start_run(client)["status"] == "queued"
