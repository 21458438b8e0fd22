"""One table tail per stream key per process, fanned out to every subscriber of that key.

A key is a run (its event items) or an owner's inbox (its numbered alert events): the hub is
given how to fetch a key's events after a sequence number and which event ends a stream (a
run's terminal event; none for an inbox, whose streams end at their deadline).

A :class:`Tail` is a single asyncio task that queries the key's event items
(``SK > cursor``) every poll interval and puts each new event on every subscriber's queue, so
fifty viewers of one run cost one Query per interval, not fifty. It ends after the final
event, or as soon as its last subscriber leaves (no task outlives its viewers).

A subscriber that resumes from an older id than the tail has reached registers its queue first
and then catches up from the table; everything the tail publishes after registration is in its
queue, so catch-up plus queue covers every event exactly once (duplicates are dropped by seq).

An idle tail slows down: each empty poll stretches the interval by half, up to
``idle_interval_s``, and the next event brings it back to ``interval_s`` (a run waiting for a
worker costs a few queries a second, not twenty, which is what lets a hundred concurrent runs
share one table, and one local process).

A run item that is terminal while its terminal event item never appears (the projector set the
record aside, see ``quantdesk dlq``) would leave its viewers waiting forever. Every
``repair_after_s`` of silence the tail asks ``terminal`` for the run item's end and publishes it
as the run's last event (the same event the projector stores for that write: its sequence
number, status and error), then ends; but only once the item has been terminal that long and
the tail already holds every earlier event, or has been terminal ``give_up_after_s`` (then the
missing earlier events are lost to this viewer), so a projector that is merely behind is
never overtaken.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from quantdesk.observability import logger
from quantdesk.runs.models import TERMINAL, RunEvent


class Event(Protocol):
    """What a tail carries: an event numbered by its key's sequence (``data()`` is the SSE
    payload, ``event`` its name)."""

    @property
    def seq(self) -> int: ...

    @property
    def event(self) -> str: ...

    def data(self) -> dict[str, Any]: ...


#: ``fetch(key, after_seq, limit)``: up to ``limit`` events with ``seq > after_seq``, in order
Fetch = Callable[[str, int, int], Awaitable[Sequence[Event]]]
#: ``ends(event)``: no event follows this one
Ends = Callable[[Any], bool]
#: ``terminal(run_id)``: the run item's terminal event and how many seconds ago it was
#: written, None while the run is active
Terminal = Callable[[str], Awaitable[tuple[RunEvent, float] | None]]

MAX_FETCH_FAILURES = 5
#: a viewer this many events behind is dropped (its stream ends; the browser reconnects with
#: Last-Event-ID and catches up from the table) so one stalled client cannot hoard memory
MAX_BACKLOG = 1000


def is_terminal(event: RunEvent) -> bool:
    """A run's last event."""
    return event.event == "status" and event.status in TERMINAL


def never(event: Event) -> bool:
    """An endless key's events (an inbox)."""
    return False


@dataclass(frozen=True)
class TailEnded:
    """Put on every queue when the tail stops publishing."""

    reason: Literal["terminal", "error", "lagging"]


Item: TypeAlias = Event | TailEnded


@dataclass(frozen=True)
class Heartbeat:
    """Yielded by :func:`follow` when nothing happened for a heartbeat interval."""


@dataclass(frozen=True)
class Pacing:
    """How often a tail queries: ``interval_s`` while events flow, stretching to
    ``idle_interval_s`` while none do; the run item is checked after ``repair_after_s`` idle."""

    interval_s: float
    idle_interval_s: float = 0.5
    repair_after_s: float = 5.0
    give_up_after_s: float = 60.0

    def after_empty_poll(self, current: float) -> float:
        return min(max(current, self.interval_s) * 1.5, max(self.idle_interval_s, self.interval_s))


class Tail:
    def __init__(
        self,
        key: str,
        cursor: int,
        fetch: Fetch,
        pacing: Pacing,
        page_size: int,
        *,
        terminal: Terminal | None = None,
        ends: Ends = is_terminal,
    ) -> None:
        self.key = key
        #: the last sequence number published to subscribers
        self.cursor = cursor
        self._fetch = fetch
        self._terminal = terminal
        self._ends = ends
        self._pacing = pacing
        self._page_size = page_size
        self._queues: set[asyncio.Queue[Item]] = set()
        self._task: asyncio.Task[None] | None = None
        self.ended: TailEnded | None = None
        self.queries = 0

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def add(self) -> asyncio.Queue[Item]:
        queue: asyncio.Queue[Item] = asyncio.Queue()
        self._queues.add(queue)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"tail:{self.key}")
        return queue

    def remove(self, queue: asyncio.Queue[Item]) -> asyncio.Task[None] | None:
        """Drop a subscriber; the task to await when that stopped the tail."""
        self._queues.discard(queue)
        if not self._queues and self._task is not None and not self._task.done():
            self._task.cancel()
            return self._task
        return None

    def _publish(self, item: Item) -> None:
        for queue in list(self._queues):
            if queue.qsize() >= MAX_BACKLOG:
                self._queues.discard(queue)
                queue.put_nowait(TailEnded("lagging"))
                logger.warning("dropping a lagging viewer", extra={"stream": self.key})
            else:
                queue.put_nowait(item)

    async def _run(self) -> None:
        failures = 0
        pacing = self._pacing
        interval = pacing.interval_s
        quiet_since = time.monotonic()
        while self._queues:
            try:
                events: Sequence[Event] = await self._fetch(self.key, self.cursor, self._page_size)
                if not events and time.monotonic() - quiet_since >= pacing.repair_after_s:
                    events = await self._repair()
                    quiet_since = time.monotonic()
            except Exception:
                failures += 1
                logger.exception("tail query failed", extra={"stream": self.key})
                if failures >= MAX_FETCH_FAILURES:
                    # subscribers close; browsers reconnect with Last-Event-ID and resume
                    self._end(TailEnded("error"))
                    return
                await asyncio.sleep(min(pacing.interval_s * 2**failures, 1.0))
                continue
            failures = 0
            self.queries += 1
            fresh = [event for event in events if event.seq > self.cursor]
            for event in fresh:
                self.cursor = event.seq
                self._publish(event)
                if self._ends(event):
                    self._end(TailEnded("terminal"))
                    return
            if fresh:
                interval, quiet_since = pacing.interval_s, time.monotonic()
            else:
                interval = pacing.after_empty_poll(interval)
            if len(events) < self._page_size:
                await asyncio.sleep(interval)

    async def _repair(self) -> list[Event]:
        """The run item's terminal event when its event item is missing (see module doc)."""
        if self._terminal is None:
            return []
        found = await self._terminal(self.key)
        if found is None:
            return []
        event, age_s = found
        if event.seq <= self.cursor or age_s < self._pacing.repair_after_s:
            return []
        if event.seq > self.cursor + 1 and age_s < self._pacing.give_up_after_s:
            return []  # earlier events may still be on their way
        logger.warning(
            "terminal event repaired from the run item",
            extra={"run_id": self.key, "seq": event.seq, "after": self.cursor},
        )
        return [event]

    def _end(self, ended: TailEnded) -> None:
        self.ended = ended
        self._publish(ended)


@dataclass
class Subscription:
    tail: Tail
    queue: asyncio.Queue[Item]
    #: the tail's cursor when the queue was registered: the queue holds every event after it
    joined_at: int


@dataclass
class TailHub:
    """The process's tails, one per key (run, inbox) being watched."""

    fetch: Fetch
    pacing: Pacing
    page_size: int = 100
    terminal: Terminal | None = None
    ends: Ends = is_terminal
    _tails: dict[str, Tail] = field(default_factory=dict)
    #: queries made by tails that have already stopped (for the stats endpoint)
    _retired_queries: int = 0

    @contextlib.asynccontextmanager
    async def subscribe(self, key: str, after: int) -> AsyncIterator[Subscription]:
        tail = self._tails.get(key)
        if tail is None or tail.ended is not None:
            tail = Tail(
                key,
                after,
                self.fetch,
                self.pacing,
                self.page_size,
                terminal=self.terminal,
                ends=self.ends,
            )
            self._tails[key] = tail
        queue = tail.add()
        try:
            yield Subscription(tail, queue, tail.cursor)
        finally:
            stopping = tail.remove(queue)
            if not tail.subscribers:
                self._retire(tail)
            if stopping is not None:
                # shielded: the subscriber may itself be cancelled (client disconnect)
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(_settle(stopping))

    def _retire(self, tail: Tail) -> None:
        if self._tails.get(tail.key) is tail:
            del self._tails[tail.key]
        self._retired_queries += tail.queries

    def stats(self) -> dict[str, int]:
        return {
            "tails": len(self._tails),
            "subscribers": sum(t.subscribers for t in self._tails.values()),
            "queries": self._retired_queries + sum(t.queries for t in self._tails.values()),
        }


async def _settle(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def follow(
    hub: TailHub,
    key: str,
    after: int,
    *,
    heartbeat_s: float,
    until: float,
) -> AsyncIterator[Event | Heartbeat]:
    """Every event of ``key`` after ``after``, in order, exactly once, until the final event
    (or the tail ends, or ``until`` on the monotonic clock passes); heartbeats in idle gaps."""
    async with hub.subscribe(key, after) as sub:
        sent = after
        if sub.joined_at > after:
            async for event in _catch_up(hub, key, after, sub.joined_at):
                yield event
                sent = event.seq
                if hub.ends(event):
                    return
        beat_at = time.monotonic() + heartbeat_s
        while True:
            now = time.monotonic()
            if now >= until:
                return
            try:
                item = await asyncio.wait_for(sub.queue.get(), min(beat_at, until) - now)
            except TimeoutError:
                if time.monotonic() >= beat_at:
                    yield Heartbeat()
                    beat_at = time.monotonic() + heartbeat_s
                continue
            if isinstance(item, TailEnded):
                return
            if item.seq <= sent:
                continue  # already sent during catch-up
            yield item
            sent = item.seq
            beat_at = time.monotonic() + heartbeat_s
            if hub.ends(item):
                return


async def _catch_up(hub: TailHub, key: str, after: int, target: int) -> AsyncIterator[Event]:
    """Events after ``after`` from the table, at least up to ``target`` (which the tail has
    already published, so they are stored)."""
    cursor = after
    while cursor < target:
        page = await hub.fetch(key, cursor, hub.page_size)
        for event in page:
            yield event
            cursor = event.seq
        if len(page) < hub.page_size:
            return
