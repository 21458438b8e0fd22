"""The origin's one interpreter serves the API and the SSE app; new SSE connections wait while
runs' starts (``POST /analysis/run``) are in flight.

On AWS the API's Lambda and the stream's Function URL are separate fleets. Here they share one
process and two cores with the endpoint, and a hundred starts each followed at once by five
viewers had the viewers' connections (their authorisation read, their first query) compete with
the starts still in flight. A viewer loses nothing by waiting: the stream resumes from the run's
event log, whatever it missed is sent first. It waits at most :data:`MAX_HOLD_S`, so a steady
stream of starts delays new viewers but never shuts them out; open streams are not held.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

#: the longest a new SSE connection waits for the starts in flight
MAX_HOLD_S: Final = 1.0
START_PATH: Final = "/analysis/run"


class StartsFirst:
    """Counts the starts in flight; holds new stream connections back while there are any.
    Lives on the origin's event loop (every count is changed there)."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self.max_hold_s = max_hold_s
        self._starts = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def api(self, app: ASGIApp) -> ASGIApp:
        return _Counted(self, app)

    def stream(self, app: ASGIApp) -> ASGIApp:
        return _Held(self, app)

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        self._starts += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._starts -= 1
            if not self._starts:
                self._quiet.set()

    async def hold(self) -> float:
        """Wait while starts are in flight (at most ``max_hold_s``); the seconds waited."""
        if not self._starts:
            return 0.0
        started = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self.max_hold_s)
        return time.monotonic() - started


# ASGI apps as objects, not functions: Starlette's routes call a function with a request


class _Counted:
    def __init__(self, gate: StartsFirst, app: ASGIApp) -> None:
        self.gate, self.app = gate, app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST" or scope.get("path") != START_PATH:
            await self.app(scope, receive, send)
            return
        with self.gate.starting():
            await self.app(scope, receive, send)


class _Held:
    def __init__(self, gate: StartsFirst, app: ASGIApp) -> None:
        self.gate, self.app = gate, app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.gate.hold()
        await self.app(scope, receive, send)
