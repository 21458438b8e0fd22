"""A streaming ASGI response that always notices a client leaving.

Starlette's ``StreamingResponse`` stops listening for ``http.disconnect`` on ASGI spec 2.4
servers and only notices a gone client on its next write, which for an idle SSE stream can be a
heartbeat away. Here the body pump and a disconnect watcher race; whichever ends first cancels
the other, so the event generator's cleanup (leaving the run's tail) runs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from starlette.types import Receive, Scope, Send


class EventStreamResponse:
    media_type = "text/event-stream"

    def __init__(self, chunks: AsyncIterator[str], headers: Mapping[str, str]) -> None:
        self._chunks = chunks
        self._headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pump = asyncio.create_task(self._pump(send), name="sse-pump")
        watch = asyncio.create_task(_until_disconnect(receive), name="sse-disconnect")
        try:
            await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, watch):
                task.cancel()
            await asyncio.gather(pump, watch, return_exceptions=True)
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def _pump(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self._headers})
        try:
            async for chunk in self._chunks:
                body = chunk.encode()
                await send({"type": "http.response.body", "body": body, "more_body": True})
        except OSError:  # the client went away mid-write
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
