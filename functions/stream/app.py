"""The SSE app: ``GET /runs/{run_id}/stream`` follows one run's events live.

On AWS it runs under the Lambda Web Adapter (``AWS_LWA_INVOKE_MODE=response_stream``) behind a
Function URL with ``InvokeMode: RESPONSE_STREAM``; locally uvicorn serves the same ASGI app behind
the one local origin. It never reads the DynamoDB stream: it tails the projector's ordered event
items with cheap Queries (``SK > last seq``), so any number of viewers can follow a run.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

from quantdesk.errors import InvalidRequest, NotFound, QuantdeskError
from quantdesk.observability import logger
from quantdesk.runs import tokens
from quantdesk.runs.models import RUN_ID_PATTERN, TERMINAL, RunEvent
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

RETRY_MS = 1000
POLL_INTERVAL_S = 0.05
HEARTBEAT_S = 15.0
#: end cleanly before the Lambda limit (15 min); the browser reconnects with Last-Event-ID
MAX_STREAM_S = 14 * 60


def format_event(event: RunEvent) -> str:
    data = json.dumps(event.data(), separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.event}\ndata: {data}\n\n"


def last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
    if not raw.isdigit():
        raise InvalidRequest("Last-Event-ID must be a non-negative integer", field="last_event_id")
    return int(raw)


async def follow(repo: RunRepository, run_id: str, after: int) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    started = last_beat = time.monotonic()
    while time.monotonic() - started < MAX_STREAM_S:
        events = await asyncio.to_thread(repo.events_after, run_id, after)
        for event in events:
            yield format_event(event)
            after = event.seq
            if event.event == "status" and event.status in TERMINAL:
                return
        now = time.monotonic()
        if events:
            last_beat = now
        elif now - last_beat >= HEARTBEAT_S:
            yield ": heartbeat\n\n"
            last_beat = now
        if not events:
            await asyncio.sleep(POLL_INTERVAL_S)


async def stream(request: Request) -> Response:
    settings = get_settings()
    run_id = request.path_params["run_id"]
    try:
        if not re.match(RUN_ID_PATTERN, run_id):
            raise NotFound(f"no run {run_id!r}", field="run_id")
        owner = tokens.verify(settings.stream_secret, run_id, request.query_params.get("token"))
        after = last_event_id(request)
        repo = RunRepository(settings.table_name)
        run = await asyncio.to_thread(repo.get, run_id)
        if run is None or run.owner != owner:
            raise NotFound(f"no run {run_id!r}", field="run_id")
    except QuantdeskError as exc:
        return JSONResponse(exc.to_body(), status_code=exc.status)
    logger.info("stream opened", extra={"run_id": run_id, "after": after})
    return StreamingResponse(
        follow(repo, run_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


app = Starlette(routes=[Route("/runs/{run_id}/stream", stream, methods=["GET"])])
