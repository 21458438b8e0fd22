"""Replaying recorded vendor answers through ``VendorHttp`` (no network, no waiting).

``ReplayTransport(route)`` answers each request with ``route(url)`` (the recorded body, or a full
``HttpResponse``), after first playing any scripted failures (``script``: responses or exceptions,
in order). ``FakeClock`` stands in for time: ``sleep`` advances it and remembers every wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from quantdesk.ingestion.sources.http import HttpRequest, HttpResponse, VendorHttp

Route = Callable[[str], "bytes | HttpResponse"]


@dataclass
class FakeClock:
    now: float = 1000.0
    waits: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@dataclass
class ReplayTransport:
    route: Route
    script: list[HttpResponse | Exception] = field(default_factory=list)
    requests: list[HttpRequest] = field(default_factory=list)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        answer = self.route(request.url)
        if isinstance(answer, HttpResponse):
            return answer
        return HttpResponse(200, answer, {}, request.url)


def replay_http(
    vendor: str, transport: ReplayTransport, clock: FakeClock | None = None, **kwargs: object
) -> VendorHttp:
    """A ``VendorHttp`` on recordings and a fake clock; jitter takes the top of its range."""
    clock = clock or FakeClock()
    return VendorHttp(
        vendor,
        transport=transport,
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda low, high: high,
        **kwargs,  # type: ignore[arg-type]
    )
