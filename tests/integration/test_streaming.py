"""Live run streaming through the whole local stack: API -> state machine -> worker -> table
stream -> local event-source mapping -> projector -> event items -> SSE app behind the origin,
checked with ``httpx-sse`` as the independent client.

Some tests write run state straight into the stack's table (as the state machine and worker
do) to hold a run open or time a write; they reach the LocalStack-compatible endpoint like any
client, through ``LOCALSTACK_HOST``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from quantdesk.runs import tokens
from quantdesk.runs.models import Progress
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.conftest import Stack
from tests.stack import stack_clients
from tests.unit.stream.run_writer import RunWriter, mark_running, token_for

pytestmark = pytest.mark.integration

LOCAL_OWNER = "local"  # an owner for runs written straight into the table


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def stack_aws(stack: Stack) -> Iterator[None]:
    """This process's AWS clients pointed at the stack's endpoint (restored afterwards)."""
    with stack_clients(stack):
        yield


def read(client: httpx.Client, url: str, **kwargs: Any) -> list[ServerSentEvent]:
    with connect_sse(client, "GET", url, **kwargs) as source:
        assert source.response.status_code == 200
        return list(source.iter_sse())


def ids(messages: list[ServerSentEvent]) -> list[int]:
    return [int(m.id) for m in messages if m.data]


def start(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.post(
        "/analysis/run", json={"scenario_id": "trend_strength", "params": params, "fresh": True}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def finished(client: httpx.Client) -> tuple[dict[str, Any], list[ServerSentEvent]]:
    """A real run followed live from its start to its end."""
    accepted = start(client)
    return accepted, read(client, accepted["stream_url"])


def test_a_real_run_streams_exact_fields_in_strict_order(
    finished: tuple[dict[str, Any], list[ServerSentEvent]],
) -> None:
    accepted, messages = finished
    assert messages[0].retry is not None and messages[0].retry > 0 and not messages[0].data
    events = [m for m in messages if m.data]
    seqs = ids(messages)
    assert seqs == list(range(1, len(seqs) + 1))  # strictly increasing, no gap
    kinds = [m.event for m in events]
    assert kinds[:2] == ["status", "status"] and kinds[-2:] == ["result", "status"]
    assert kinds.count("progress") >= 3
    datas = [json.loads(m.data) for m in events]
    for message, data in zip(events, datas, strict=True):
        assert {"run_id", "seq", "status", "at"} <= data.keys()
        assert data["run_id"] == accepted["run_id"] and data["seq"] == int(message.id)
    assert [d["status"] for d in datas][:2] == ["queued", "running"]
    assert datas[-1]["status"] == "succeeded"
    # progress flows through the same path, in order, with step/percent/message
    progress = [d["progress"] for d in datas if "progress" in d and d["status"] == "running"]
    percents = [p["percent"] for p in progress]
    assert percents == sorted(percents) and all(p["step"] and p["message"] for p in progress)
    ats = [d["at"] for d in datas]
    assert ats == sorted(ats)


@pytest.mark.parametrize("how", ["header", "query"])
def test_resume_at_every_position(
    client: httpx.Client, finished: tuple[dict[str, Any], list[ServerSentEvent]], how: str
) -> None:
    accepted, messages = finished
    everything = ids(messages)
    for position in everything[:-1]:
        if how == "header":
            got = read(client, accepted["stream_url"], headers={"Last-Event-ID": str(position)})
        else:
            got = read(client, f"{accepted['stream_url']}&last_event_id={position}")
        assert ids(got) == everything[position:], position
    # after the terminal event there is nothing to follow: 204 stops EventSource reconnecting
    last = client.get(accepted["stream_url"], headers={"Last-Event-ID": str(everything[-1])})
    assert last.status_code == 204


def test_late_subscriber_gets_the_full_history_then_the_close(
    client: httpx.Client, finished: tuple[dict[str, Any], list[ServerSentEvent]]
) -> None:
    accepted, messages = finished
    late = read(client, accepted["stream_url"])
    assert [(m.id, m.event, m.data) for m in late] == [(m.id, m.event, m.data) for m in messages]


def test_fifty_concurrent_subscribers_all_get_every_event_in_order(
    client: httpx.Client, stack: Stack
) -> None:
    accepted = start(client)
    url = stack.base_url + accepted["stream_url"]

    async def subscriber(http: httpx.AsyncClient) -> list[tuple[str, str, str]]:
        async with aconnect_sse(http, "GET", url) as source:
            return [(m.id, m.event, m.data) async for m in source.aiter_sse() if m.data]

    async def all_of_them() -> list[list[tuple[str, str, str]]]:
        limits = httpx.Limits(max_connections=60, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            return await asyncio.gather(*(subscriber(http) for _ in range(50)))

    results = asyncio.run(all_of_them())
    reference = results[0]
    assert [int(i) for i, _, _ in reference] == list(range(1, len(reference) + 1))
    assert json.loads(reference[-1][2])["status"] == "succeeded"
    assert all(r == reference for r in results)


def stats(client: httpx.Client) -> dict[str, Any]:
    return dict(client.get("/runs/_stats").json())


def test_disconnects_leave_no_leaked_tasks(
    client: httpx.Client, stack: Stack, stack_aws: None
) -> None:
    # Given a run that stays open (written as the state machine would, never finished)
    run = RunWriter(RunRepository(get_settings().table_name), _run_id(), owner=LOCAL_OWNER)
    run.create()
    url = f"{stack.base_url}/runs/{run.run_id}/stream?token={token_for(run)}"
    baseline = _settled(client)

    async def open_then_drop(count: int) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            held = []
            for _ in range(count):
                source = aconnect_sse(http, "GET", url)
                sse = await source.__aenter__()
                messages = aiter(sse.aiter_sse())
                assert (await anext(messages)).retry is not None
                assert (await anext(messages)).id == "1"
                held.append((source, messages))
            during = await asyncio.to_thread(stats, client)
            for source, _ in held:
                await source.__aexit__(None, None, None)
            return during

    # When 20 viewers connect and then all go away mid-stream
    during = asyncio.run(open_then_drop(20))
    assert during["subscribers"] >= 20 and during["open_streams"] >= 20
    # Then no tail, subscriber, stream or task is left behind
    after = _settled(client, tasks_at_most=baseline["tasks"])
    assert (after["tails"], after["subscribers"], after["open_streams"]) == (0, 0, 0)
    assert after["tasks"] <= baseline["tasks"], (baseline, after)


def _settled(client: httpx.Client, tasks_at_most: int | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        current = stats(client)
        idle = current["tails"] == current["subscribers"] == current["open_streams"] == 0
        if idle and (tasks_at_most is None or current["tasks"] <= tasks_at_most):
            return current
        if time.monotonic() > deadline:
            return current
        time.sleep(0.05)


def test_writes_reach_a_live_subscriber_in_order_through_the_projector(
    client: httpx.Client, stack: Stack, stack_aws: None
) -> None:
    repo = RunRepository(get_settings().table_name)
    run = RunWriter(repo, _run_id(), owner=LOCAL_OWNER)
    run.create()
    mark_running(repo, run.run_id)
    url = f"{stack.base_url}/runs/{run.run_id}/stream?token={token_for(run)}"
    received: list[ServerSentEvent] = []

    async def follow() -> None:
        async with (
            httpx.AsyncClient(timeout=20) as http,
            aconnect_sse(http, "GET", url) as source,
        ):
            async for message in source.aiter_sse():
                received.append(message)

    async def scenario() -> None:
        task = asyncio.create_task(follow())
        await asyncio.sleep(0.3)
        for percent in range(5, 100, 5):  # a burst of progress writes
            progress = Progress(step="computing", percent=percent, message=f"{percent}%")
            await asyncio.to_thread(repo.record_progress, run.run_id, progress, "t")
        await asyncio.to_thread(repo.finish, run.run_id, "cancelled", "t")
        await asyncio.wait_for(task, 15)

    asyncio.run(scenario())
    datas = [json.loads(m.data) for m in received if m.data]
    assert [d["seq"] for d in datas] == list(range(1, 23))
    assert [d["progress"]["percent"] for d in datas if "progress" in d] == list(range(5, 100, 5))
    assert datas[-1]["status"] == "cancelled"


@pytest.mark.parametrize(
    ("case", "status"),
    [("forged", 401), ("expired", 401), ("other_run", 401), ("other_owner", 404)],
)
def test_bad_tokens_get_401_or_404_and_no_data(
    stack_aws: None,
    client: httpx.Client,
    finished: tuple[dict[str, Any], list[ServerSentEvent]],
    case: str,
    status: int,
) -> None:
    accepted, _ = finished
    run_id = accepted["run_id"]
    secret = tokens.signing_key(get_settings().stream_secret_name)
    good = accepted["stream_url"].split("token=")[1]
    token = {
        "forged": good[:-6] + "AAAAAA",
        "expired": tokens.issue(secret, run_id, LOCAL_OWNER, ttl_s=-1),
        "other_run": tokens.issue(secret, "0" * 26, LOCAL_OWNER),
        "other_owner": tokens.issue(secret, run_id, "mallory"),
    }[case]
    response = client.get(f"/runs/{run_id}/stream?token={token}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "data:" not in response.text and "id:" not in response.text


_ids = iter(range(10**6))


def _run_id() -> str:
    return f"z{time.time_ns() % 10**15:015d}{next(_ids):010d}"
