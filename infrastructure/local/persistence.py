"""State of the local cloud kept on disk across restarts, at the endpoint's HTTP level.

Every client (our handlers through localstack-client, the CLI, moto's own Step Functions
interpreter calling back) reaches moto through HTTP, so the endpoint's state is exactly what its
mutating requests made it. :class:`DurableApp` wraps moto's WSGI app: a mutating request is
applied and appended to the write-ahead log under one lock (so the log's order is the order the
state saw, and DynamoDB stream sequence numbers come out the same on replay), and the log is
fsync'd **before** the response leaves: what a client was answered survives a SIGKILL a moment
later. Concurrent writers share one fsync (group commit). While the origin's writes are in
flight, every other request waits for them first (``foreground``).

The log is compacted into snapshots: the moto region backends that received writes, pickled
together (so references between them hold), taken under the same lock, in the background
when the log has grown (once no start is in flight: the dump holds the lock and the interpreter
for a fraction of a second), and on a clean stop. A snapshot is a complete image — tables with their
stream records, buckets, state machines and executions (with their history), IAM, Lambda,
CloudFormation, Cognito — which a request log cannot rebuild more cheaply; the log then only
has to carry what happened since.

Start-up (:meth:`DurableState.restore`): the newest readable snapshot, then the log segments
after it, replayed through the same app. Replay has no side effects: a replayed
``StartExecution`` records the execution without running it (its later writes are in the log
themselves), Lambda invocations are never logged (what a handler wrote, it wrote over HTTP), and
how an execution ended is logged as its own record. moto's random source is re-seeded per
request so ids (Cognito subs, tokens) come out the same. Executions still running at the kill
cannot resume (their interpreter was in memory): they end ``ABORTED``, and their runs are
reconciled by ``quantdesk.runs.reconcile``. What could not be read is reported, never fatal.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infrastructure.local import foreground, moto_state
from infrastructure.local.endpoint_server import EndpointServer
from infrastructure.local.journal import Journal, Record

log = logging.getLogger("quantdesk.local.persistence")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: actions that only read (JSON ``X-Amz-Target`` or query-protocol ``Action``)
READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Head", "Search")
#: actions whose effects reach the endpoint as requests of their own, or that wait on other
#: requests (which would deadlock behind the write lock)
UNLOGGED_ACTIONS = frozenset({"Invoke", "InvokeAsync", "StartSyncExecution"})
_LAMBDA_INVOKE_PATHS = ("/invocations", "/invoke-async")
#: a snapshot is due once this much has been logged since the last one
SNAPSHOT_BYTES = 16 * 1024 * 1024
SNAPSHOT_RECORDS = 2000
#: a due snapshot waits for the starts in flight until the log has grown this many times over
SNAPSHOT_OVERDUE = 4
#: the user agent's application id (``AWS_SDK_UA_APP_ID``) of the clients whose writes go first
FOREGROUND_AGENT = "app/quantdesk-origin"


# -- which requests change state --------------------------------------------------------------


def from_origin(environ: dict[str, Any]) -> bool:
    """Whether a request comes from the origin (the API's and the stream's clients)."""
    return FOREGROUND_AGENT in str(environ.get("HTTP_USER_AGENT", ""))


def request_action(environ: dict[str, Any], body: bytes) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        for pair in body.decode("utf-8", "replace").split("&"):
            name, _, value = pair.partition("=")
            if name == "Action":
                return value
    return None


def is_mutating(service: str, environ: dict[str, Any], body: bytes) -> bool:
    """Whether a request can change the endpoint's state and must be logged. Unknown requests
    count as mutating: logging a read costs a little, missing a write loses data."""
    if environ.get("REQUEST_METHOD", "GET") in READ_METHODS:
        return False
    action = request_action(environ, body)
    if action is not None:
        return action not in UNLOGGED_ACTIONS and not action.startswith(READ_PREFIXES)
    invoke = str(environ.get("PATH_INFO", "")).rstrip("/").endswith(_LAMBDA_INVOKE_PATHS)
    return not (invoke and service in ("awslambda", "lambda"))


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream
        body = stream.read()
    else:  # no body (reading on would wait for the next request on the connection)
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    return bytes(body)


def recordable_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """The request as moto reads it: CGI variables and headers (no server objects)."""
    kept: dict[str, Any] = {}
    for name, value in environ.items():
        if name.isupper() and isinstance(value, str):
            kept[name] = value
    preserved = environ.get("moto.preserved_header_names")
    if isinstance(preserved, dict):
        kept["moto.preserved_header_names"] = preserved
    kept["wsgi.url_scheme"] = environ.get("wsgi.url_scheme", "http")
    return kept


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """Run a WSGI app to completion: (status, headers, body chunks)."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"], started["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return started["status"], started["headers"], chunks


#: the order waiting writes take the lock in (each rank in arrival order): a start's last write
#: (its ``StartExecution``) before the other starts' first ones, so a burst of starts is answered
#: one after another rather than all at its end; the origin's other writes; then the rest
FINISHING_A_START, FOREGROUND, BACKGROUND = 0, 1, 2


class WriteLock:
    """The lock mutating requests take in turn, handed to waiting foreground requests (the
    origin's: a run's start, what a user waits on) before the others (the executions', the
    projector's, the pollers'), by rank, each rank in arrival order. Under load a dozen requests
    wait for it; with one FIFO queue a start waited behind every execution's writes queued
    before it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: list[tuple[int, int, threading.Lock]] = []
        self._arrivals = itertools.count()

    def acquire(self, *, rank: int = BACKGROUND) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            heapq.heappush(self._waiting, (rank, next(self._arrivals), turn))
        turn.acquire()  # released by the holder handing the lock over

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                heapq.heappop(self._waiting)[2].release()  # still held: by the next waiter
            else:
                self._held = False

    @contextlib.contextmanager
    def held(self, *, rank: int = BACKGROUND) -> Iterator[None]:
        self.acquire(rank=rank)
        try:
            yield
        finally:
            self.release()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- the state folder -------------------------------------------------------------------------


@dataclass
class RestoreReport:
    snapshot: int | None = None
    replayed: int = 0
    #: what could not be restored, in words, for the start-up output
    problems: list[str] = field(default_factory=list)
    #: executions that were running at the stop and were ended ``ABORTED``
    interrupted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        base = f"snapshot {self.snapshot}" if self.snapshot is not None else "no snapshot"
        return f"{base} + {self.replayed} logged requests"


class DurableState:
    """The endpoint's state folder: restore at start, log while running, snapshot."""

    def __init__(self, directory: Path, app: Any) -> None:
        self.journal = Journal(directory)
        self.app = app
        self.lock = WriteLock()
        self._since_snapshot = (0, 0)  # (bytes, records) logged since the last snapshot
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- start-up -----------------------------------------------------------------------------

    def restore(self) -> RestoreReport:
        """Load the newest readable snapshot and replay the log after it; then open a new
        segment and end the executions that were running."""
        report = RestoreReport()
        start = 0
        for number in self.journal.snapshots():
            try:
                moto_state.load(self.journal.read_snapshot(number))
            except Exception as exc:  # a damaged snapshot: try the one before
                report.problems.append(f"snapshot {number} unreadable ({exc}); skipped")
                continue
            report.snapshot, start = number, number
            break
        segments = self.journal.segments(start)
        expected = start
        with moto_state.without_side_effects():
            for number in segments:
                if number != expected:
                    report.problems.append(
                        f"log segments {expected}..{number - 1} missing: changes in them lost"
                    )
                expected = number + 1
                self._replay_segment(number, report)
        self.journal.open_segment()
        moto_state.on_execution_end(self.record_execution_end)
        report.interrupted = moto_state.end_running(self.record_execution_end)
        self._start_snapshotter()
        return report

    def _replay_segment(self, number: int, report: RestoreReport) -> None:
        segment = self.journal.read_segment(number)
        differed = 0
        for record in segment.records:
            if not self._replay(record):
                differed += 1
            report.replayed += 1
            size = self._since_snapshot
            self._since_snapshot = (size[0] + len(record.body) + 256, size[1] + 1)
        if segment.problem:
            report.problems.append(
                f"log segment {number}: stopped at {segment.problem}; "
                f"{len(segment.records)} earlier records restored"
            )
        if differed:
            report.problems.append(
                f"log segment {number}: {differed} requests answered differently on replay"
            )

    def _replay(self, record: Record) -> bool:
        header = record.header
        if header.get("kind") == "execution-ended":
            return moto_state.apply_execution_ended(header)
        environ = dict(header["environ"])
        environ["wsgi.input"] = io.BytesIO(record.body)
        environ["wsgi.errors"] = io.StringIO()
        moto_state.seed_random(header["seed"])
        try:
            status, _, _ = _call(self.app, environ)
        except Exception:
            log.exception("replaying %s failed", header.get("action") or environ.get("PATH_INFO"))
            return False
        return status.split(" ", 1)[0] == str(header.get("status"))

    # -- while running ------------------------------------------------------------------------

    def apply(
        self, service: str, environ: dict[str, Any], body: bytes
    ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """Apply a mutating request and make it durable before its answer is returned."""
        header: dict[str, Any] = {"kind": "request", "service": service}
        header["environ"] = recordable_environ(environ)
        header["action"] = request_action(environ, body)
        if not from_origin(environ):
            foreground.yield_to_foreground()
            return self._apply(header, environ, body, rank=BACKGROUND)
        rank = FINISHING_A_START if header["action"] == "StartExecution" else FOREGROUND
        with foreground.serving():
            return self._apply(header, environ, body, rank=rank)

    def _apply(
        self, header: dict[str, Any], environ: dict[str, Any], body: bytes, *, rank: int
    ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        with self.lock.held(rank=rank):
            header["seed"] = secrets.randbits(64)
            moto_state.seed_random(header["seed"])
            status, headers, chunks = _call(self.app, environ)
            header["status"] = status.split(" ", 1)[0]
            position = self._append(header, body)
        self.journal.sync(position)
        return status, headers, chunks

    def record_execution_end(self, execution: Any) -> None:
        with self.lock:
            position = self._append(moto_state.execution_ended(execution))
        self.journal.sync(position)

    def _append(self, header: dict[str, Any], body: bytes = b"") -> int:
        size = self._since_snapshot
        self._since_snapshot = (size[0] + len(body) + 256, size[1] + 1)
        return self.journal.append(header, body)

    # -- snapshots ----------------------------------------------------------------------------

    def snapshot(self) -> int | None:
        """Write a snapshot of everything logged so far; its number, or None if nothing new."""
        with self.lock:
            if self._since_snapshot == (0, 0):
                return None
            payload = self._dump()
            number = self.journal.open_segment()
            self._since_snapshot = (0, 0)
        self.journal.write_snapshot(number, payload)
        self.journal.prune()
        return number

    def _dump(self, attempts: int = 5) -> bytes:
        for _ in range(attempts - 1):
            try:
                return moto_state.dump()
            except RuntimeError:  # an execution's history grew while being read: again
                continue
        return moto_state.dump()

    def _snapshot_due(self, times: int = 1) -> bool:
        size, records = self._since_snapshot
        return size >= times * SNAPSHOT_BYTES or records >= times * SNAPSHOT_RECORDS

    def snapshot_wanted(self) -> bool:
        """Due, and no start in flight: a dump holds the write lock and the interpreter for a
        fraction of a second, which a burst of starts arriving then would wait out. Under a
        steady stream of starts it is taken anyway once the log since the last one has grown
        to :data:`SNAPSHOT_OVERDUE` times the threshold (a restart's replay stays bounded)."""
        if not self._snapshot_due():
            return False
        return not foreground.busy() or self._snapshot_due(SNAPSHOT_OVERDUE)

    def _start_snapshotter(self, interval_s: float = 2.0) -> None:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                if self.snapshot_wanted():
                    try:
                        self.snapshot()
                    except Exception:  # the log still holds everything: retry later
                        log.exception("snapshot failed")

        self._thread = threading.Thread(target=loop, name="state-snapshots", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """A clean stop: a last snapshot, so the next start replays nothing."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        moto_state.on_execution_end(None)
        try:
            self.snapshot()
        finally:
            self.journal.close()


class DurableApp:
    """WSGI middleware around moto's dispatcher: mutating requests go through
    :meth:`DurableState.apply`; everything else passes straight through."""

    def __init__(self, app: Any, state: DurableState) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") in READ_METHODS:
            self._background_waits(environ)
            return self.app(environ, start_response)
        body = _read_body(environ)
        service = str(self.app.get_application(environ).service)
        if not is_mutating(service, environ, body):
            self._background_waits(environ)
            return self.app(environ, start_response)
        status, headers, chunks = self.state.apply(service, environ, body)
        start_response(status, headers)
        return chunks

    @staticmethod
    def _background_waits(environ: dict[str, Any]) -> None:
        """A read that is not the origin's (the pollers', the interpreter's) waits for the
        starts in flight, and so does the origin's Query (an SSE tail's poll, a history page):
        while starts are in flight the work that writes events waits, so a tail's poll would
        find nothing new, and a hundred tails' polls took a third of the endpoint during a
        burst of starts. The origin's point reads (a start's) go straight through."""
        if not from_origin(environ) or request_action(environ, b"") == "Query":
            foreground.yield_to_foreground()


class DurableEndpoint:
    """moto's dispatcher wrapped in :class:`DurableApp`, served by :class:`EndpointServer`,
    state kept in ``directory``."""

    def __init__(self, host: str, port: int, directory: Path) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: PLC0415

        self.host, self.port = host, port
        self.state = DurableState(directory, DomainDispatcherApplication(create_backend_app))
        self._server: EndpointServer | None = None

    def start(self) -> RestoreReport:
        """Restore the state, then serve."""
        app = DurableApp(self.state.app, self.state)
        # bound first: a port in use fails before the folder is touched; requests wait in
        # the backlog until the state is restored
        self._server = EndpointServer(self.host, self.port, app).bind()
        report = self.state.restore()
        self._server.serve()
        return report

    def stop(self) -> None:
        if self._server:
            self._server.stop()
        self.state.close()


class StreamPositions:
    """The stream poller's checkpoints (``{stream arn: {shard id: sequence number}}``), saved
    by a background thread when they move and on stop. A saved position may lag the real one
    (a kill between the two): the records after it are delivered again, which the projector
    absorbs (it stores each event once by sequence number); it never runs ahead, so nothing
    is skipped."""

    def __init__(self, path: Path, interval_s: float = 0.5) -> None:
        self.path = path
        self.interval_s = interval_s
        self._sources: dict[str, dict[str, str]] = {}
        self._saved: dict[str, dict[str, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stream-positions", daemon=True)

    def load(self) -> tuple[dict[str, dict[str, str]], str | None]:
        """The saved positions, and what was wrong with the file if it could not be read."""
        if not self.path.exists():
            return {}, None
        try:
            data = json.loads(self.path.read_text())
            positions = {
                str(arn): {str(shard): str(seq) for shard, seq in shards.items()}
                for arn, shards in data.items()
            }
        except (ValueError, AttributeError, TypeError) as exc:
            return {}, f"stream positions unreadable ({exc}); streams re-read from the start"
        self._saved = positions
        return positions, None

    def follow(self, key: str, checkpoints: dict[str, str]) -> None:
        """Save ``checkpoints`` (a poller's live dict) under ``key``."""
        self._sources[key] = checkpoints
        if not self._thread.is_alive():
            self._thread.start()

    def save(self) -> None:
        current = {**self._saved, **{key: dict(live) for key, live in self._sources.items()}}
        if current == self._saved:
            return
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(current, indent=1, sort_keys=True))
        os.replace(temporary, self.path)
        self._saved = current

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.save()
            except (OSError, RuntimeError):  # RuntimeError: a shard added while copying
                log.exception("could not save the stream positions")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.save()
