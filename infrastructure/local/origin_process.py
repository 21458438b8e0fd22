"""The origin (``origin.py``: the distribution, the REST API, the Function URL) in a process of its
own, as API Gateway and the API's and stream's Lambdas run apart from DynamoDB and Step Functions
on AWS.

In one process, every API request shared one interpreter lock with the endpoint's own threads
(moto's request threads, a hundred executions' interpreters, the stream pollers), so under load
``POST /analysis/run`` waited for the lock far longer than it computed. Here the origin has an
interpreter of its own and reaches the endpoint only over HTTP, as every client does.

The parent keeps the origin's ``/healthz`` at 503 until it says the product is ready (sample
data loaded), forwards ``POST /_local/faults`` (faults live in the endpoint's process) over a
pipe, and stops the origin with itself; an origin whose parent died (SIGKILL) exits at once, so
the port is free for the next start.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Final

import httpx
import uvicorn

from infrastructure.local.child_process import exit_with_parent
from infrastructure.local.environment import configure_environment, use_function_environment
from infrastructure.local.identity import LocalIdentity
from infrastructure.local.origin import Routing, build_origin, faults_route
from infrastructure.local.persistence import FOREGROUND_AGENT

START_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True)
class OriginConfig:
    host: str
    port: int
    #: the endpoint (host, port) the origin's clients talk to
    endpoint: tuple[str, int]
    routing: Routing
    identity: LocalIdentity
    #: the environment the stack gives its functions (the API's and the stream's handlers)
    environment: dict[str, str]
    #: who a request without a token acts as (None: every request needs a token)
    default_user: str | None
    #: serve ``POST /_local/faults``, forwarded to the endpoint's process
    faults: bool = False


class OriginProcess:
    """Starts, readies and stops the origin's process."""

    def __init__(
        self, config: OriginConfig, arm_faults: Callable[[dict[str, int]], dict[str, int]]
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.config = config
        self._ready = context.Event()
        self._faults: Connection | None = None
        child_end: Connection | None = None
        if config.faults:
            self._faults, child_end = context.Pipe()
        self._arm_faults = arm_faults
        self.process = context.Process(
            target=serve,
            args=(config, self._ready, child_end, os.getpid()),
            name="quantdesk-origin",
        )

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    def start(self) -> OriginProcess:
        self.process.start()
        if self._faults is not None:
            threading.Thread(target=self._serve_faults, name="faults", daemon=True).start()
        return self

    def wait_listening(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until the origin answers (``/healthz`` says 503 until :meth:`ready`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.process.is_alive():
                raise RuntimeError(f"the origin exited at start ({self.process.exitcode})")
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the origin did not answer in {timeout_s:.0f}s") from None
                time.sleep(0.05)

    def ready(self) -> None:
        self._ready.set()

    def wait(self) -> int | None:
        self.process.join()
        return self.process.exitcode

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.is_alive():
            self.process.terminate()  # uvicorn's graceful stop
            self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def _serve_faults(self) -> None:
        assert self._faults is not None
        while True:
            try:
                wanted = self._faults.recv()
            except (EOFError, OSError):
                return
            try:
                answer: Any = self._arm_faults(wanted)
            except ValueError as exc:
                answer = exc
            self._faults.send(answer)


def serve(
    config: OriginConfig,
    ready: Any,
    faults: Connection | None,
    parent_pid: int,
) -> None:
    """The origin's process: the same environment as the stack's functions, then uvicorn."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    exit_with_parent(parent_pid)
    configure_environment(*config.endpoint)
    use_function_environment(config.environment)
    # the endpoint lets the origin's writes (a run's start) go before the background work's
    os.environ["AWS_SDK_UA_APP_ID"] = FOREGROUND_AGENT.removeprefix("app/")
    extra = [faults_route(_forwarder(faults))] if faults is not None else []
    origin = build_origin(
        config.routing,
        config.identity,
        default_user=config.default_user,
        extra_routes=extra,
        ready=ready.is_set,
    )
    uvicorn.run(
        origin,
        host=config.host,
        port=config.port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        server_header=False,
    )


def _forwarder(connection: Connection) -> Callable[[dict[str, int]], dict[str, int]]:
    lock = threading.Lock()

    def arm(wanted: dict[str, int]) -> dict[str, int]:
        with lock:
            connection.send(wanted)
            answer = connection.recv()
        if isinstance(answer, Exception):
            raise answer
        armed: dict[str, int] = answer
        return armed

    return arm
