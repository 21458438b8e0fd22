"""The inbox stream on the wire: an owner's new alerts, numbered by the owner's inbox sequence,
resumed exactly, and opened only by an inbox token of that owner."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, connect_sse

from quantdesk.runs import tokens
from quantdesk.settings import get_settings
from quantdesk.watches.models import Alert, ResultDiff
from quantdesk.watches.repository import WatchRepository
from tests.unit.stream.conftest import Served, new_run_id
from tests.unit.stream.run_writer import RunWriter, token_for


@pytest.fixture
def inbox(moto_aws: None) -> WatchRepository:
    return WatchRepository(get_settings().table_name)


def store_alert(inbox: WatchRepository, owner: str = "alice") -> Alert:
    alert_id = new_run_id()
    alert = Alert(
        alert_id=alert_id,
        watch_id=new_run_id(),
        run_id=alert_id,
        previous_run_id=new_run_id(),
        scenario_id="trend_strength",
        created_at="2026-11-30T18:00:00.000Z",
        summary=f"trend_strength: {owner} entered",
        diff=ResultDiff(key_column="symbol", entries=["MSFT"]),
    )
    assert inbox.put_alert(owner, alert)
    return alert


def inbox_url(served: Served, owner: str = "alice", **params: Any) -> str:
    token = tokens.issue_inbox(tokens.signing_key(get_settings().stream_secret_name), owner)
    query = "".join(f"&{k}={v}" for k, v in params.items())
    return f"{served.base_url}/inbox/stream?token={token}{query}"


def read_for(url: str, seconds: float, headers: dict[str, str] | None = None) -> list[Any]:
    """The events a client gets in ``seconds`` (the stream itself never ends by itself)."""
    got: list[ServerSentEvent] = []
    deadline = time.monotonic() + seconds
    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", url, headers=headers or {}) as source,
    ):
        assert source.response.status_code == 200
        for message in source.iter_sse():
            if message.event == "alert":
                got.append(message)
            if time.monotonic() > deadline:
                break
    return got


@pytest.mark.parametrize("how", ["header", "query"])
def test_resume_from_every_position_gives_exactly_the_later_alerts(
    serve: Callable[..., Served], inbox: WatchRepository, how: str
) -> None:
    served = serve(max_duration_s=0.6)
    alerts = [store_alert(inbox) for _ in range(4)]
    for after in range(len(alerts) + 1):
        if how == "header":
            got = read_for(inbox_url(served), 5, {"Last-Event-ID": str(after)})
        else:
            got = read_for(inbox_url(served, last_event_id=after), 5)
        assert [int(m.id) for m in got] == list(range(after + 1, len(alerts) + 1))
        assert [json.loads(m.data)["alert_id"] for m in got] == [a.alert_id for a in alerts[after:]]


def test_new_alerts_arrive_live_on_every_viewer_through_one_tail(
    serve: Callable[..., Served], inbox: WatchRepository
) -> None:
    served = serve(max_duration_s=1.5)
    store_alert(inbox)  # before the viewers: not theirs (they start at the newest alert)
    results: list[list[Any]] = [[] for _ in range(3)]

    def view(i: int) -> None:
        results[i] = read_for(inbox_url(served), 5)

    viewers = [threading.Thread(target=view, args=(i,)) for i in range(3)]
    for viewer in viewers:
        viewer.start()
    deadline = time.monotonic() + 5
    while served.stats()["inbox_subscribers"] < 3:
        assert time.monotonic() < deadline, "viewers did not subscribe"
        time.sleep(0.02)
    assert served.stats()["inbox_tails"] == 1
    later = [store_alert(inbox), store_alert(inbox, "bob"), store_alert(inbox)]
    for viewer in viewers:
        viewer.join(timeout=10)
    for got in results:
        assert [int(m.id) for m in got] == [2, 3]
        assert [json.loads(m.data)["alert_id"] for m in got] == [
            later[0].alert_id,
            later[2].alert_id,
        ]
    assert served.wait_idle()["inbox_tails"] == 0


def test_a_run_token_does_not_open_the_inbox_nor_an_inbox_token_a_run(
    serve: Callable[..., Served], inbox: WatchRepository, new_run: Callable[..., RunWriter]
) -> None:
    served = serve()
    store_alert(inbox)
    run = new_run().lifecycle()
    as_inbox = httpx.get(
        f"{served.base_url}/inbox/stream?token={token_for(run)}&last_event_id=0", timeout=5
    )
    assert as_inbox.status_code == 401 and as_inbox.json()["field"] == "token"
    assert "alert" not in as_inbox.text
    inbox_token = inbox_url(served).split("token=")[1]
    as_run = httpx.get(f"{served.base_url}/runs/{run.run_id}/stream?token={inbox_token}")
    assert as_run.status_code == 401 and "id:" not in as_run.text
    assert httpx.get(f"{served.base_url}/inbox/stream", timeout=5).status_code == 401


def test_another_owners_token_gets_none_of_the_owners_alerts(
    serve: Callable[..., Served], inbox: WatchRepository
) -> None:
    served = serve(max_duration_s=0.5)
    mine = store_alert(inbox, "alice")
    got = read_for(inbox_url(served, "mallory", last_event_id=0), 5)
    assert got == []
    body = httpx.get(inbox_url(served, "mallory", last_event_id=0), timeout=5).text
    assert mine.alert_id not in body


@pytest.mark.parametrize("value", ["abc", "-1", "2"])
def test_an_invalid_or_future_inbox_id_is_a_400(
    serve: Callable[..., Served], inbox: WatchRepository, value: str
) -> None:
    served = serve()
    store_alert(inbox)
    response = httpx.get(inbox_url(served), headers={"Last-Event-ID": value}, timeout=5)
    assert response.status_code == 400
    assert response.json()["field"] == "last_event_id"
