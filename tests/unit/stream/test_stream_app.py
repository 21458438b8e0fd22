"""The SSE app on the wire: format, resume, fan-out, heartbeats, clean ends, access, leaks."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from tests.unit.stream.conftest import Served
from tests.unit.stream.run_writer import RunWriter, token_for


def read_all(url: str, headers: dict[str, str] | None = None) -> list[ServerSentEvent]:
    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", url, headers=headers or {}) as source,
    ):
        assert source.response.status_code == 200
        return list(source.iter_sse())


def events_only(messages: list[ServerSentEvent]) -> list[ServerSentEvent]:
    return [m for m in messages if m.event != "message"]


def test_wire_format_follows_the_contract(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    # Given a finished run with progress events
    served = serve()
    run = new_run().lifecycle(progress_steps=2)

    # When a client follows it from the start
    messages = read_all(served.url(run))

    # Then retry comes first, then every event with id, event and a JSON data line
    assert messages[0].retry == 1000 and messages[0].data == "" and messages[0].id == ""
    events = messages[1:]
    assert [int(m.id) for m in events] == [e.seq for e in run.events]
    assert [m.event for m in events] == [
        "status",
        "status",
        "progress",
        "progress",
        "result",
        "status",
    ]
    for message, expected in zip(events, run.events, strict=True):
        data = json.loads(message.data)
        assert {"run_id", "seq", "status", "at"} <= data.keys()
        assert data["run_id"] == run.run_id and data["seq"] == int(message.id)
        assert data["status"] == expected.status
    assert [json.loads(m.data)["progress"]["percent"] for m in events[2:4]] == [10.0, 20.0]
    assert json.loads(events[-1].data)["status"] == "succeeded"


def test_raw_bytes_start_with_retry_and_use_exact_fields(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve()
    run = new_run().lifecycle(progress_steps=0)
    body = httpx.get(served.url(run), timeout=10)
    assert body.headers["content-type"].startswith("text/event-stream")
    assert body.headers["cache-control"] == "no-cache"
    blocks = body.text.split("\n\n")
    assert blocks[0] == "retry: 1000"
    first = blocks[1].split("\n")
    assert first[0] == "id: 1" and first[1] == "event: status" and first[2].startswith("data: {")
    assert body.text.endswith("\n\n")


@pytest.mark.parametrize("how", ["header", "query"])
def test_resume_at_every_position_returns_exactly_the_rest(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter], how: str
) -> None:
    served = serve()
    run = new_run().lifecycle(progress_steps=3)
    seqs = [e.seq for e in run.events]
    for position in seqs[:-1]:
        if how == "header":
            got = read_all(served.url(run), headers={"Last-Event-ID": str(position)})
        else:
            got = read_all(served.url(run, last_event_id=position))
        assert [int(m.id) for m in events_only(got)] == [s for s in seqs if s > position]


def test_resume_after_the_terminal_event_says_204_so_eventsource_stops(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve()
    run = new_run().lifecycle()
    response = httpx.get(served.url(run), headers={"Last-Event-ID": str(run.seq)}, timeout=5)
    assert response.status_code == 204 and response.content == b""


def test_live_events_arrive_in_order_and_the_stream_closes_after_the_terminal_one(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve()
    run = new_run()
    received: list[ServerSentEvent] = []

    def follow() -> None:
        received.extend(read_all(served.url(run)))

    reader = threading.Thread(target=follow)
    reader.start()
    time.sleep(0.2)
    run.emit("status", "running")
    for percent in (10, 50, 90):
        run.emit("progress", percent=percent)
        time.sleep(0.05)
    run.emit("result")
    run.emit("status", "succeeded")
    reader.join(timeout=10)
    assert not reader.is_alive(), "stream did not close after the terminal event"
    assert [int(m.id) for m in events_only(received)] == list(range(1, run.seq + 1))


def test_fifty_subscribers_share_one_tail_and_all_get_every_event(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve(poll_interval_ms=50)
    run = new_run()
    run.emit("status", "running")

    async def subscriber(client: httpx.AsyncClient, after: int) -> list[int]:
        headers = {"Last-Event-ID": str(after)} if after else {}
        async with aconnect_sse(client, "GET", served.url(run), headers=headers) as source:
            return [int(m.id) async for m in source.aiter_sse() if m.id]

    async def scenario() -> tuple[list[list[int]], dict[str, Any]]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=20, limits=limits) as client:
            tasks = [asyncio.create_task(subscriber(client, i % 3)) for i in range(50)]
            await asyncio.sleep(0.5)
            stats = await asyncio.to_thread(served.stats)
            started, began = stats["queries"], time.monotonic()
            for percent in range(10, 100, 10):
                await asyncio.to_thread(run.emit, "progress", None, float(percent))
                await asyncio.sleep(0.05)
            await asyncio.to_thread(run.emit, "status", "succeeded")
            results = await asyncio.gather(*tasks)
            stats = await asyncio.to_thread(served.stats)
            stats["queries_during"] = stats["queries"] - started
            stats["intervals"] = (time.monotonic() - began) / 0.05
            return results, stats

    results, stats = asyncio.run(scenario())
    for index, ids in enumerate(results):
        after = index % 3
        assert ids == list(range(after + 1, run.seq + 1))
    assert stats["subscribers"] == 0
    # ~one query per 50 ms interval for the run, not one per viewer per interval
    assert stats["queries_during"] <= stats["intervals"] + 5, stats


def test_late_subscriber_after_completion_gets_history_then_close(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve()
    run = new_run().lifecycle()
    time.sleep(0.1)
    got = events_only(read_all(served.url(run)))
    assert [int(m.id) for m in got] == [e.seq for e in run.events]
    assert json.loads(got[-1].data)["status"] == "succeeded"


def test_idle_stream_gets_heartbeats(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve(heartbeat_s=0.2)
    run = new_run()
    lines: list[str] = []
    with httpx.stream("GET", served.url(run), timeout=5) as response:
        started = time.monotonic()
        for line in response.iter_lines():
            lines.append(line)
            if lines.count(": heartbeat") >= 2 or time.monotonic() - started > 3:
                break
    assert lines[:4] == ["retry: 1000", "", "id: 1", "event: status"]
    assert lines.count(": heartbeat") >= 2


def test_stream_ends_cleanly_at_its_time_limit_and_a_reconnect_carries_on(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve(max_duration_s=0.5)
    run = new_run()
    run.emit("status", "running")
    started = time.monotonic()
    first = events_only(read_all(served.url(run)))
    assert time.monotonic() - started < 3
    assert [int(m.id) for m in first] == [1, 2]
    run.emit("progress", percent=50)
    run.emit("status", "succeeded")
    second = events_only(read_all(served.url(run), headers={"Last-Event-ID": first[-1].id}))
    assert [int(m.id) for m in second] == [3, 4]


def test_stream_ends_before_the_lambda_deadline_the_adapter_reports(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve(deadline_margin_s=0.2)
    run = new_run()
    context = {"deadline": int((time.time() + 0.7) * 1000), "request_id": "r"}
    started = time.monotonic()
    got = read_all(served.url(run), headers={"x-amzn-lambda-context": json.dumps(context)})
    assert 0.3 < time.monotonic() - started < 3
    assert [int(m.id) for m in events_only(got)] == [1]


def test_disconnected_clients_leave_no_tail_subscriber_or_task(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter]
) -> None:
    served = serve(heartbeat_s=60)
    run = new_run()
    baseline = served.stats()["tasks"]

    async def open_and_drop(count: int) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            sources: list[Any] = []
            for _ in range(count):
                source = aconnect_sse(client, "GET", served.url(run))
                sse = await source.__aenter__()
                messages = aiter(sse.aiter_sse())
                assert (await anext(messages)).retry == 1000
                assert (await anext(messages)).id == "1"  # now subscribed to the tail
                # keep the iterator: finalising it would close the connection early
                sources.append((source, messages))
            stats = await asyncio.to_thread(served.stats)
            for source, _ in sources:
                await source.__aexit__(None, None, None)
            return stats

    during = asyncio.run(open_and_drop(10))
    assert during["tails"] == 1 and during["subscribers"] == 10 and during["open_streams"] == 10
    after = served.wait_idle(baseline_tasks=baseline)
    assert after["tails"] == 0 and after["subscribers"] == 0 and after["open_streams"] == 0
    assert after["tasks"] <= baseline, (baseline, after)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("missing", 401),
        ("forged", 401),
        ("expired", 401),
        ("other_run", 401),
        ("other_owner", 404),
        ("unknown_run", 404),
        ("bad_run_id", 404),
    ],
)
def test_bad_tokens_get_no_data(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter], case: str, status: int
) -> None:
    served = serve()
    run = new_run().lifecycle()
    other = new_run(owner="bob")
    base = f"{served.base_url}/runs/{run.run_id}/stream"
    good = token_for(run)
    url = {
        "missing": base,
        "forged": f"{base}?token={good[:-4]}AAAA",
        "expired": f"{base}?token={token_for(run, ttl_s=-5)}",
        # a valid token, but for another run
        "other_run": f"{base}?token={token_for(other)}",
        # a valid token for this run id, issued to someone who does not own it
        "other_owner": f"{base}?token={token_for(run, owner='mallory')}",
        "unknown_run": f"{served.base_url}/runs/{'9' * 26}/stream?token="
        + token_for(RunWriter(run.repo, "9" * 26)),
        "bad_run_id": f"{served.base_url}/runs/NOT-A-RUN/stream?token={good}",
    }[case]
    response = httpx.get(url, timeout=5)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "id:" not in response.text and run.run_id not in response.text.replace(
        f"no run {run.run_id!r}", ""
    )
    assert response.json()["code"] in {"unauthorized", "not_found"}


@pytest.mark.parametrize("value", ["abc", "-1", "99"])
def test_invalid_last_event_id_is_a_400(
    serve: Callable[..., Served], new_run: Callable[..., RunWriter], value: str
) -> None:
    served = serve()
    run = new_run()
    response = httpx.get(served.url(run), headers={"Last-Event-ID": value}, timeout=5)
    assert response.status_code == 400
    assert response.json()["field"] == "last_event_id"


def test_stats_are_off_unless_enabled(
    serve: Callable[..., Served],
) -> None:
    served = serve(stats=False)
    assert httpx.get(f"{served.base_url}/runs/_stats", timeout=5).status_code == 404
