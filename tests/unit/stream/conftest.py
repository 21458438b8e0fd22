"""The SSE app over moto: events are written straight to the table with ``RunRepository`` (no
projector), the app is served by a real uvicorn in a thread so streaming and disconnects behave
as on the wire, and ``httpx-sse`` is the independent client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import uvicorn

from infrastructure.local.lambda_runtime import load_handler
from infrastructure.resources import STREAM
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.conftest import free_port
from tests.unit.stream.run_writer import OWNER, RunWriter, token_for

CREATE_APP = replace(STREAM, handler="app.create_app")


@pytest.fixture(scope="session")
def create_app() -> Callable[..., Any]:
    """``create_app`` from the SSE function, loaded exactly as Lambda and the origin load it."""
    return load_handler(CREATE_APP)


_counter = iter(range(10**6))


def new_run_id() -> str:
    return f"{next(_counter):026d}"


@pytest.fixture
def repo(moto_aws: None) -> RunRepository:
    return RunRepository(get_settings().table_name)


@pytest.fixture
def new_run(repo: RunRepository) -> Callable[..., RunWriter]:
    def make(owner: str = OWNER) -> RunWriter:
        return RunWriter(repo, new_run_id(), owner=owner).create()

    return make


@dataclass
class Served:
    base_url: str
    app: Any

    def url(self, run: RunWriter, **params: Any) -> str:
        params.setdefault("token", token_for(run))
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.base_url}/runs/{run.run_id}/stream?{query}"

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base_url}/runs/_stats", timeout=5).json())

    def wait_idle(self, baseline_tasks: int | None = None, timeout_s: float = 3) -> dict[str, Any]:
        """Stats once no tail, subscriber or stream is left (and tasks are back to baseline)."""
        deadline = time.monotonic() + timeout_s
        while True:
            stats = self.stats()
            idle = stats["tails"] == 0 and stats["subscribers"] == 0 and stats["open_streams"] == 0
            if idle and (baseline_tasks is None or stats["tasks"] <= baseline_tasks):
                return stats
            if time.monotonic() > deadline:
                return stats
            time.sleep(0.05)


@pytest.fixture
def serve(moto_aws: None, create_app: Callable[..., Any]) -> Iterator[Callable[..., Served]]:
    """``serve(**stream_settings)`` runs the SSE app under uvicorn on a free port."""
    # on sys.path once the stream app is loaded
    from runstream.settings import StreamSettings  # noqa: PLC0415

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> Served:
        settings = {"poll_interval_ms": 20, "heartbeat_s": 15.0, "stats": True, **overrides}
        app = create_app(get_settings(), StreamSettings(**settings))
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        servers.append((server, thread))
        return Served(f"http://127.0.0.1:{port}", app)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)
