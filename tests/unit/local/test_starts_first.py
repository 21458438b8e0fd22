"""The origin holds new SSE connections back while runs' starts are in flight, never longer than
its bound, and never holds the API's other requests."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from infrastructure.local.starts_first import StartsFirst


def _scope(method: str, path: str = "/analysis/run") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path}


async def _nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _ignore(message: Any) -> None:
    return None


def _recording(log: list[str], name: str, done: asyncio.Event | None = None) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        log.append(f"{name} began")
        if done is not None:
            await done.wait()
        log.append(f"{name} ended")

    return app


def test_a_new_stream_waits_for_the_write_in_flight() -> None:
    async def scenario() -> list[str]:
        log: list[str] = []
        gate = StartsFirst(max_hold_s=5)
        finish_start = asyncio.Event()
        start = asyncio.create_task(
            gate.api(_recording(log, "start", finish_start))(_scope("POST"), _nothing, _ignore)
        )
        await asyncio.sleep(0)
        viewer = asyncio.create_task(
            gate.stream(_recording(log, "viewer"))(_scope("GET"), _nothing, _ignore)
        )
        read = asyncio.create_task(
            gate.api(_recording(log, "history"))(_scope("GET", "/analysis/runs"), _nothing, _ignore)
        )
        suggest = asyncio.create_task(
            gate.api(_recording(log, "suggest", finish_start))(
                _scope("POST", "/analysis/suggest"), _nothing, _ignore
            )
        )
        await asyncio.sleep(0.05)
        assert "viewer began" not in log  # held while the start is in flight
        assert "history ended" in log  # other requests are neither counted nor held
        assert "suggest began" in log
        finish_start.set()
        await asyncio.gather(start, viewer, read, suggest)
        return log

    log = asyncio.run(scenario())
    assert log.index("start ended") < log.index("viewer began")


def test_a_stream_is_held_at_most_the_bound_and_not_at_all_when_quiet() -> None:
    async def scenario() -> tuple[float, float]:
        gate = StartsFirst(max_hold_s=0.1)
        quiet = await gate.hold()
        never = asyncio.Event()
        start = asyncio.create_task(
            gate.api(_recording([], "start", never))(_scope("POST"), _nothing, _ignore)
        )
        await asyncio.sleep(0)
        held = await gate.hold()
        never.set()
        await start
        return quiet, held

    quiet, held = asyncio.run(scenario())
    assert quiet == 0.0
    assert 0.1 <= held < 1.0


def test_a_failed_write_still_lets_streams_through() -> None:
    async def scenario() -> float:
        gate = StartsFirst(max_hold_s=5)

        async def failing(scope: Any, receive: Any, send: Any) -> None:
            raise RuntimeError("boom")

        with contextlib.suppress(RuntimeError):
            await gate.api(failing)(_scope("POST"), _nothing, _ignore)
        return await gate.hold()

    assert asyncio.run(scenario()) == 0.0


def test_the_wrapped_apps_mount_as_asgi_apps_on_a_route() -> None:
    # a Starlette route calls a plain function with a request: the wrappers must stay ASGI apps
    gate = StartsFirst()
    answer = PlainTextResponse("ok")
    app = Starlette(
        routes=[
            Route("/runs/_stats", gate.stream(answer)),
            Route("/analysis/run", gate.api(answer), methods=["POST"]),
        ]
    )

    async def request(method: str, path: str) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {**_scope(method, path), "headers": [], "query_string": b"", "app": app}
        await app(scope, _nothing, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    assert asyncio.run(request("GET", "/runs/_stats")) == (200, b"ok")
    assert asyncio.run(request("POST", "/analysis/run")) == (200, b"ok")
