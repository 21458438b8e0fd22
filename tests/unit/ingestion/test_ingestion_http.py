"""The polite vendor HTTP client: rate limit, retries with backoff, Retry-After, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError
from quantdesk.ingestion.sources.http import HttpResponse, redact, retry_after_s
from tests.unit.ingestion.replay import FakeClock, ReplayTransport, replay_http


def ok(url: str) -> bytes:
    return b"fine"


def test_server_errors_are_retried_with_exponential_backoff_then_answered() -> None:
    # Given a vendor that fails twice with 503
    clock = FakeClock()
    transport = ReplayTransport(ok, script=[HttpResponse(503, b""), HttpResponse(502, b"")])
    http = replay_http("V", transport, clock, backoff_base_s=2.0, min_interval_s=0.0)
    # When we GET
    answer = http.get("https://v.example/a")
    # Then the third attempt answers, after waits of base*1 and base*2 (jitter at its top)
    assert answer.body == b"fine" and len(transport.requests) == 3
    assert clock.waits == [2.0, 4.0]


def test_backoff_is_capped_and_jittered() -> None:
    clock = FakeClock()
    transport = ReplayTransport(ok, script=[HttpResponse(500, b"")] * 4)
    seen: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        seen.append((low, high))
        return high / 2

    http = replay_http(
        "V", transport, clock, max_attempts=5, backoff_base_s=4.0, backoff_cap_s=10.0
    )
    http.jitter = jitter
    http.min_interval_s = 0.0
    http.get("https://v.example/a")
    assert seen == [(0.0, 4.0), (0.0, 8.0), (0.0, 10.0), (0.0, 10.0)]
    assert clock.waits == [2.0, 4.0, 5.0, 5.0]


def test_retry_after_seconds_is_honoured_and_holds_the_host() -> None:
    clock = FakeClock()
    transport = ReplayTransport(ok, script=[HttpResponse(429, b"", {"retry-after": "30"})])
    http = replay_http("V", transport, clock, backoff_base_s=1.0, min_interval_s=0.0)
    http.get("https://v.example/a")
    assert clock.waits == [30.0]  # Retry-After beats the 1 s backoff


def test_retry_after_as_http_date() -> None:
    later = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
    now = (later - timedelta(seconds=10)).timestamp()
    assert retry_after_s(format_datetime(later, usegmt=True), now) == pytest.approx(10.0)
    assert retry_after_s("garbage", now) is None


def test_retry_after_beyond_the_limit_gives_up_at_once() -> None:
    transport = ReplayTransport(ok, script=[HttpResponse(429, b"", {"retry-after": "3600"})])
    http = replay_http("V", transport, max_retry_after_s=60.0)
    with pytest.raises(SourceUnavailableError, match="retry after 3600s"):
        http.get("https://v.example/a")
    assert len(transport.requests) == 1


def test_still_failing_after_the_attempts_is_retryable_unavailable() -> None:
    transport = ReplayTransport(ok, script=[HttpResponse(503, b"")] * 3)
    http = replay_http("Vendor X", transport, max_attempts=3)
    with pytest.raises(SourceUnavailableError, match=r"Vendor X answered 503 .* after 3 attempts"):
        http.get("https://v.example/a")


def test_timeouts_and_connection_failures_are_retried() -> None:
    transport = ReplayTransport(ok, script=[TimeoutError("slow"), ConnectionError("refused")])
    http = replay_http("V", transport)
    assert http.get("https://v.example/a").body == b"fine"
    assert len(transport.requests) == 3


def test_client_errors_are_not_retried_unless_accepted() -> None:
    transport = ReplayTransport(lambda url: HttpResponse(404, b"no such id"))
    http = replay_http("V", transport)
    with pytest.raises(SourceConfigError, match="V answered 404"):
        http.get("https://v.example/a")
    assert len(transport.requests) == 1
    assert http.get("https://v.example/a", accept={404}).status == 404


def test_requests_to_one_host_are_spaced_other_hosts_are_not() -> None:
    clock = FakeClock()
    http = replay_http("V", ReplayTransport(ok), clock, min_interval_s=0.5)
    http.get("https://a.example/1")
    http.get("https://b.example/1")
    assert clock.waits == []
    http.get("https://a.example/2")
    assert clock.waits == [0.5]


def test_user_agent_timeout_and_params_are_sent() -> None:
    transport = ReplayTransport(ok)
    http = replay_http("V", transport, user_agent="acme research ops@acme.example", timeout_s=7)
    http.get("https://v.example/a", {"id": "X Y", "n": 2}, headers={"Accept": "text/csv"})
    sent = transport.requests[0]
    assert sent.url == "https://v.example/a?id=X+Y&n=2"
    assert sent.headers["User-Agent"] == "acme research ops@acme.example"
    assert sent.headers["Accept"] == "text/csv" and sent.timeout_s == 7


def test_secrets_never_reach_error_messages() -> None:
    transport = ReplayTransport(lambda url: HttpResponse(403, b""))
    http = replay_http("V", transport)
    with pytest.raises(SourceConfigError) as raised:
        http.get("https://v.example/a", {"series_id": "CPI", "api_key": "s3cret"})
    assert "s3cret" not in str(raised.value) and "series_id=CPI" in str(raised.value)
    assert redact("https://x.example/p?token=abc&a=1") == "https://x.example/p?token=***&a=1"
