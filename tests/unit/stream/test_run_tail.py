"""The per-run tail without a server: an in-memory event log as the table, subscribers joining
at random positions and times while events are appended."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

import pytest

from quantdesk.runs.models import RunEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "functions" / "stream"))

from runstream.tail import Heartbeat, Pacing, TailHub, follow

RUN = "0" * 26


class EventLog:
    """The table's event items of one run, with a query counter."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []
        self.queries = 0
        self.fail_next = 0

    def append(self, kind: str = "progress", status: str = "running") -> RunEvent:
        event = RunEvent(
            run_id=RUN,
            seq=len(self.events) + 1,
            event=kind,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            at="2026-11-27T00:00:00Z",
        )
        self.events.append(event)
        return event

    async def fetch(self, run_id: str, after: int, limit: int) -> list[RunEvent]:
        self.queries += 1
        await asyncio.sleep(0.001)
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("throttled")
        return [e for e in self.events if e.seq > after][:limit]


async def collect(hub: TailHub, after: int, until_s: float = 10.0) -> list[int]:
    seqs = []
    async for item in follow(hub, RUN, after, heartbeat_s=60, until=time.monotonic() + until_s):
        assert not isinstance(item, Heartbeat)
        seqs.append(item.seq)
    return seqs


@pytest.mark.parametrize("seed", range(8))
def test_subscribers_joining_anywhere_get_exactly_the_events_after_their_id(seed: int) -> None:
    rng = random.Random(seed)

    async def scenario() -> None:
        log = EventLog()
        hub = TailHub(
            log.fetch, Pacing(0.005, idle_interval_s=0.005), page_size=rng.choice([1, 2, 3, 100])
        )
        log.append("status", "queued")
        tasks: list[tuple[int, asyncio.Task[list[int]]]] = []
        total = 40
        for _ in range(total):
            for _ in range(rng.randint(0, 3)):
                after = rng.randint(0, len(log.events))
                tasks.append((after, asyncio.create_task(collect(hub, after))))
            await asyncio.sleep(rng.choice([0, 0.001, 0.004, 0.01]))
            log.append()
        log.append("status", "succeeded")
        for after, task in tasks:
            assert await task == list(range(after + 1, len(log.events) + 1))
        assert hub.stats() == {"tails": 0, "subscribers": 0, "queries": hub.stats()["queries"]}

    asyncio.run(scenario())


def test_many_subscribers_cost_one_query_per_interval() -> None:
    async def scenario() -> None:
        log = EventLog()
        log.append("status", "queued")
        hub = TailHub(log.fetch, Pacing(0.02, idle_interval_s=0.02))
        tasks = [asyncio.create_task(collect(hub, 0)) for _ in range(50)]
        await asyncio.sleep(0.2)
        log.append("status", "succeeded")
        results = await asyncio.gather(*tasks)
        assert all(r == [1, 2] for r in results)
        # 0.2 s at 20 ms is ~10 queries (plus scheduling slack), never 50 x 10
        assert log.queries <= 20, log.queries

    asyncio.run(scenario())


def test_the_tail_stops_when_its_last_subscriber_leaves() -> None:
    async def scenario() -> None:
        log = EventLog()
        log.append("status", "queued")
        hub = TailHub(log.fetch, Pacing(0.005, idle_interval_s=0.005))
        tasks = [asyncio.create_task(collect(hub, 0)) for _ in range(5)]
        await asyncio.sleep(0.05)
        assert hub.stats()["subscribers"] == 5
        before = {t for t in asyncio.all_tasks() if t.get_name().startswith("tail:")}
        assert len(before) == 1
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert hub.stats()["tails"] == 0
        assert all(t.done() for t in before)
        queries = log.queries
        await asyncio.sleep(0.05)
        assert log.queries == queries  # nobody polls for a run nobody watches

    asyncio.run(scenario())


def test_a_failing_table_is_retried_then_ends_the_streams() -> None:
    async def scenario() -> None:
        log = EventLog()
        log.append("status", "queued")
        hub = TailHub(log.fetch, Pacing(0.001, idle_interval_s=0.001))
        log.fail_next = 2  # transient: retried
        task = asyncio.create_task(collect(hub, 0))
        await asyncio.sleep(0.05)
        log.append("status", "succeeded")
        assert await asyncio.wait_for(task, 5) == [1, 2]
        log.fail_next = 100  # persistent: streams end so clients reconnect and resume
        assert await asyncio.wait_for(collect(hub, 0), 5) == []

    asyncio.run(scenario())


def test_heartbeats_and_the_time_limit() -> None:
    async def scenario() -> list[object]:
        log = EventLog()
        log.append("status", "queued")
        hub = TailHub(log.fetch, Pacing(0.005, idle_interval_s=0.005))
        items: list[object] = []
        async for item in follow(hub, RUN, 0, heartbeat_s=0.05, until=time.monotonic() + 0.18):
            items.append(item)
        assert hub.stats()["tails"] == 0
        return items

    items = asyncio.run(scenario())
    assert isinstance(items[0], RunEvent)
    assert 2 <= sum(isinstance(i, Heartbeat) for i in items) <= 4


def test_a_stalled_viewer_is_dropped_instead_of_buffering_without_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runstream import tail  # noqa: PLC0415 - on sys.path once the stream app is loaded

    monkeypatch.setattr(tail, "MAX_BACKLOG", 5)

    async def scenario() -> None:
        log = EventLog()
        log.append("status", "queued")
        # one event per query, so a healthy reader drains between publications
        hub = TailHub(log.fetch, Pacing(0.002, idle_interval_s=0.002), page_size=1)
        async with hub.subscribe(RUN, 0) as stalled:  # never reads its queue
            for _ in range(10):
                log.append()
            reader = asyncio.create_task(collect(hub, 0))
            await asyncio.sleep(0.05)
            log.append("status", "succeeded")
            assert await asyncio.wait_for(reader, 5) == list(range(1, 13))
            items = [stalled.queue.get_nowait() for _ in range(stalled.queue.qsize())]
            assert items[-1] == tail.TailEnded("lagging") and len(items) == 6

    asyncio.run(scenario())


def test_an_idle_tail_slows_down_and_speeds_up_again_on_the_next_event() -> None:
    async def scenario() -> None:
        log = EventLog()
        log.append("status", "queued")
        hub = TailHub(log.fetch, Pacing(0.005, idle_interval_s=0.08))
        task = asyncio.create_task(collect(hub, 0))
        await asyncio.sleep(0.6)
        idle_queries = log.queries
        # 0.6 s idle: the interval stretched 5 ms -> 80 ms, so far fewer than 0.6 / 0.005
        assert idle_queries <= 25, idle_queries
        log.append()
        await asyncio.sleep(0.1)  # picked up within one idle interval
        stats = hub.stats()
        log.append("status", "succeeded")
        started = time.monotonic()
        assert await asyncio.wait_for(task, 5) == [1, 2, 3]
        # right after an event the tail polls fast again
        assert time.monotonic() - started < 0.06
        assert stats["subscribers"] == 1

    asyncio.run(scenario())


def test_a_missing_terminal_event_is_repaired_from_the_run_item() -> None:
    async def scenario() -> None:
        # Given a run whose last write (succeeded, seq 3) never became an event item
        log = EventLog()
        log.append("status", "queued")
        log.append("status", "running")
        item_end = RunEvent(
            run_id=RUN, seq=3, event="status", status="succeeded", at="2026-11-27T00:00:01Z"
        )
        checked: list[str] = []

        async def terminal(run_id: str) -> tuple[RunEvent, float] | None:
            checked.append(run_id)
            return item_end, 10.0  # terminal for 10 s

        hub = TailHub(log.fetch, Pacing(0.005, 0.01, repair_after_s=0.1), terminal=terminal)
        # When a viewer follows it
        started = time.monotonic()
        received: list[RunEvent] = []
        async for item in follow(hub, RUN, 0, heartbeat_s=60, until=time.monotonic() + 5):
            assert not isinstance(item, Heartbeat)
            received.append(item)
        # Then it gets the stored events, then the run item's end, and its stream closes
        assert [e.seq for e in received] == [1, 2, 3]
        assert received[-1] == item_end
        assert 0.1 <= time.monotonic() - started < 2
        assert checked == [RUN]

    asyncio.run(scenario())


def test_an_active_run_item_repairs_nothing() -> None:
    async def scenario() -> None:
        log = EventLog()
        log.append("status", "queued")

        async def terminal(run_id: str) -> tuple[RunEvent, float] | None:
            return None  # still running

        hub = TailHub(log.fetch, Pacing(0.005, 0.01, repair_after_s=0.05), terminal=terminal)
        task = asyncio.create_task(collect(hub, 0))
        await asyncio.sleep(0.3)
        assert not task.done()
        log.append("status", "succeeded")
        assert await asyncio.wait_for(task, 5) == [1, 2]

    asyncio.run(scenario())


def test_a_projector_that_is_merely_behind_is_not_overtaken() -> None:
    async def scenario() -> None:
        # Given a run item that just turned terminal (seq 4) while events 2 and 3 are still
        # being projected
        log = EventLog()
        log.append("status", "queued")
        end = RunEvent(run_id=RUN, seq=4, event="status", status="succeeded", at="2026-11-27")
        age = {"s": 0.2}

        async def terminal(run_id: str) -> tuple[RunEvent, float] | None:
            return end, age["s"]

        pacing = Pacing(0.005, 0.01, repair_after_s=0.05, give_up_after_s=30)
        hub = TailHub(log.fetch, pacing, terminal=terminal)
        task = asyncio.create_task(collect(hub, 0))
        await asyncio.sleep(0.3)
        # Then nothing is skipped while earlier events may still arrive
        assert not task.done()
        log.append("status", "running")
        log.append("result")
        log.append("status", "succeeded")
        assert await asyncio.wait_for(task, 5) == [1, 2, 3, 4]

    asyncio.run(scenario())
