"""Vendor answers by URL, on top of :mod:`tests.unit.ingestion.replay` (no network, no waiting):
``Replay(answer)`` where ``answer(url)`` gives ``(status, body)``, e.g. from the recordings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from quantdesk.ingestion.sources.http import HttpRequest, HttpResponse, VendorHttp
from tests.unit.ingestion.replay import FakeClock, ReplayTransport, replay_http

RECORDINGS = Path(__file__).parent / "recordings"


def recording(name: str) -> bytes:
    return (RECORDINGS / name).read_bytes()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Replay:
    answer: Callable[[str], tuple[int, bytes]]
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        self.transport = ReplayTransport(lambda url: HttpResponse(*self.answer(url), {}, url))

    def client(self, vendor: str = "vendor") -> VendorHttp:
        """No spacing between requests, so ``sleeps`` are the retries' backoffs only."""
        return replay_http(vendor, self.transport, self.clock, min_interval_s=0.0)

    @property
    def requests(self) -> list[HttpRequest]:
        return self.transport.requests

    @property
    def sleeps(self) -> list[float]:
        return self.clock.waits

    def urls(self) -> list[str]:
        return [r.url for r in self.requests]
