"""The SSE app: ``GET /runs/{run_id}/stream`` follows one run's events live,
``GET /inbox/stream`` the caller's new alerts.

On AWS it runs under the Lambda Web Adapter (``AWS_LWA_INVOKE_MODE=response_stream``, see
``run.sh`` and README.md) behind a Function URL with ``InvokeMode: RESPONSE_STREAM``; locally
uvicorn serves the same ASGI app behind the one local origin. It never reads the DynamoDB
stream: a per-run tail (``runstream.tail``) queries the projector's ordered event items
(``SK > last seq``) and fans each event out to every viewer of that run in this process; a
per-owner tail does the same over the owner's numbered inbox events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import AsyncIterator

from runstream import wire
from runstream.response import EventStreamResponse
from runstream.settings import StreamSettings
from runstream.tail import Event, Heartbeat, Pacing, TailHub, follow, never
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from quantdesk.errors import InvalidRequest, NotFound, QuantdeskError, for_status, quoted
from quantdesk.observability import logger
from quantdesk.runs import tokens
from quantdesk.runs.events import terminal_event
from quantdesk.runs.ids import check_id
from quantdesk.runs.models import Run, RunEvent
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import Settings, get_settings
from quantdesk.watches.models import InboxEvent
from quantdesk.watches.repository import WatchRepository
from quantdesk.web import API_HEADERS, bearer_challenge

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **API_HEADERS}
LAST_EVENT_ID = re.compile(r"[0-9]{1,10}")
#: the Lambda Web Adapter forwards the invocation's context (with its deadline, epoch ms)
LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"


def last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
    # ASCII digits only: str.isdigit() also takes '²' or '٣', which int() then refuses
    if not LAST_EVENT_ID.fullmatch(raw):
        raise InvalidRequest("Last-Event-ID must be a non-negative integer", field="last_event_id")
    return int(raw)


def stream_deadline(request: Request, settings: StreamSettings) -> float:
    """When (monotonic clock) to end the stream: the configured maximum, or earlier when the
    invocation's own deadline is nearer, so the stream always ends cleanly before Lambda cuts
    it and the browser's reconnect resumes with Last-Event-ID."""
    now_mono, budget = time.monotonic(), settings.max_duration_s
    raw = request.headers.get(LAMBDA_CONTEXT_HEADER)
    if raw:
        try:
            deadline_ms = float(json.loads(raw)["deadline"])
        except (ValueError, KeyError, TypeError):
            deadline_ms = None
        if deadline_ms is not None:
            remaining = deadline_ms / 1000 - time.time() - settings.deadline_margin_s
            budget = max(0.0, min(budget, remaining))
    return now_mono + budget


def refused(exc: QuantdeskError) -> Response:
    headers = {**API_HEADERS, **exc.headers}
    if exc.status == 401:
        headers["WWW-Authenticate"] = bearer_challenge(exc.message)
    return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)


class StreamApp:
    def __init__(
        self,
        settings: Settings,
        stream: StreamSettings,
        repo: RunRepository,
        inbox: WatchRepository | None = None,
    ) -> None:
        self.settings = settings
        self.stream_settings = stream
        self.repo = repo
        self.inbox = inbox or WatchRepository(settings.table_name)
        pacing = Pacing(
            stream.poll_interval_s,
            stream.idle_poll_interval_ms / 1000,
            stream.repair_after_s,
            stream.give_up_after_s,
        )
        self.hub = TailHub(self._fetch, pacing, stream.page_size, self._terminal)
        #: one tail per owner whose inbox is followed; an inbox never ends by itself
        self.inbox_hub = TailHub(self._fetch_inbox, pacing, stream.page_size, ends=never)
        self.open_streams = 0

    async def _fetch(self, run_id: str, after: int, limit: int) -> list[RunEvent]:
        return await asyncio.to_thread(self.repo.events_after, run_id, after, limit)

    async def _fetch_inbox(self, owner: str, after: int, limit: int) -> list[InboxEvent]:
        return await asyncio.to_thread(self.inbox.inbox_events_after, owner, after, limit)

    async def _terminal(self, run_id: str) -> tuple[RunEvent, float] | None:
        run = await asyncio.to_thread(self.repo.get, run_id)
        event = terminal_event(run) if run else None
        if event is None:
            return None
        written = dt.datetime.fromisoformat(event.at.replace("Z", "+00:00"))
        return event, (dt.datetime.now(dt.UTC) - written).total_seconds()

    async def _authorise(self, request: Request) -> tuple[Run, int]:
        run_id = request.path_params["run_id"]
        check_id(run_id)
        token = request.query_params.get("token")
        key = await asyncio.to_thread(tokens.signing_key, self.settings.stream_secret_name)
        owner = tokens.verify(key, run_id, token)
        after = last_event_id(request)
        run = await asyncio.to_thread(self.repo.get, run_id)
        if run is None or run.owner != owner:
            raise NotFound(f"no run {quoted(run_id)}", field="run_id")
        if after > run.event_seq:
            raise InvalidRequest("Last-Event-ID is ahead of the run", field="last_event_id")
        return run, after

    async def stream(self, request: Request) -> Response | EventStreamResponse:
        try:
            run, after = await self._authorise(request)
        except QuantdeskError as exc:
            return refused(exc)
        if run.terminal and after >= run.event_seq:
            # nothing will ever follow: 204 tells EventSource to stop reconnecting
            return Response(status_code=204, headers=HEADERS)
        until = stream_deadline(request, self.stream_settings)
        logger.info("stream opened", extra={"run_id": run.run_id, "after": after})
        events = follow(
            self.hub, run.run_id, after, heartbeat_s=self.stream_settings.heartbeat_s, until=until
        )
        return EventStreamResponse(self._chunks(events, {"run_id": run.run_id}), HEADERS)

    async def inbox_stream(self, request: Request) -> Response | EventStreamResponse:
        """The caller's new alerts (``id:`` = the owner's inbox sequence). Without a
        Last-Event-ID it starts at the newest alert (the listing's ``stream_url`` carries the
        id it was listed at, so nothing falls between the listing and the stream)."""
        try:
            key = await asyncio.to_thread(tokens.signing_key, self.settings.stream_secret_name)
            owner = tokens.verify_inbox(key, request.query_params.get("token"))
            newest = await asyncio.to_thread(self.inbox.inbox_seq, owner)
            has_id = "last-event-id" in request.headers or "last_event_id" in request.query_params
            after = last_event_id(request) if has_id else newest
            if after > newest:
                raise InvalidRequest("Last-Event-ID is ahead of the inbox", field="last_event_id")
        except QuantdeskError as exc:
            return refused(exc)
        until = stream_deadline(request, self.stream_settings)
        logger.info("inbox stream opened", extra={"after": after})
        events = follow(
            self.inbox_hub, owner, after, heartbeat_s=self.stream_settings.heartbeat_s, until=until
        )
        return EventStreamResponse(self._chunks(events, {"stream": "inbox"}), HEADERS)

    async def _chunks(
        self, events: AsyncIterator[Event | Heartbeat], about: dict[str, str]
    ) -> AsyncIterator[str]:
        self.open_streams += 1
        sent = 0
        try:
            yield wire.retry(self.stream_settings.retry_ms)
            async for item in events:
                if isinstance(item, Heartbeat):
                    yield wire.HEARTBEAT
                else:
                    yield wire.event(item)
                    sent += 1
        finally:
            self.open_streams -= 1
            logger.info("stream closed", extra={**about, "sent": sent})

    async def stats(self, request: Request) -> Response:
        if not self.stream_settings.stats:
            return JSONResponse(NotFound("no such route").to_body(), status_code=404)
        inbox = self.inbox_hub.stats()
        return JSONResponse(
            {
                **self.hub.stats(),
                "inbox_tails": inbox["tails"],
                "inbox_subscribers": inbox["subscribers"],
                "open_streams": self.open_streams,
                "tasks": len(asyncio.all_tasks()),
                "poll_interval_ms": self.stream_settings.poll_interval_ms,
            }
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own answers (unknown path, wrong method) and anything unexpected, in the
    API's error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status >= 500:
        logger.exception("stream request failed")
    message = {404: "no such path", 405: "method not allowed"}.get(status, "request refused")
    error = for_status(status, message if status < 500 else "internal error")
    return JSONResponse(error.to_body(), status_code=error.status, headers=API_HEADERS)


def create_app(
    settings: Settings | None = None,
    stream: StreamSettings | None = None,
    repo: RunRepository | None = None,
) -> Starlette:
    settings = settings or get_settings()
    stream = stream or StreamSettings.from_env()
    handler = StreamApp(settings, stream, repo or RunRepository(settings.table_name))
    app = Starlette(
        routes=[
            Route("/runs/_stats", handler.stats, methods=["GET"]),
            Route("/runs/{run_id}/stream", handler.stream, methods=["GET"]),
            Route("/inbox/stream", handler.inbox_stream, methods=["GET"]),
            # the Lambda Web Adapter's readiness check (AWS_LWA_READINESS_CHECK_PATH)
            Route("/healthz", handler.health, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.stream = handler
    return app


app = create_app()
