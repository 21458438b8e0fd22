"""A polite HTTP client shared by the vendor sources.

Every vendor request goes through :class:`VendorHttp`, which

- spaces requests to one host at least ``min_interval_s`` apart (per-host rate limit; a
  ``Retry-After`` answer pushes that host's next slot back too);
- retries 429, 5xx, timeouts and connection failures up to ``max_attempts`` times with
  exponential backoff and full jitter (wait ``uniform(0, min(cap, base * 2**(attempt - 1)))``),
  waiting at least what a ``Retry-After`` header asks (seconds or an HTTP date) when it asks no
  more than ``max_retry_after_s`` (more than that: give up now, the state machine retries later);
- sends the configured ``User-Agent`` (SEC EDGAR, for one, requires a contact in it) and a
  per-request timeout.

Failures map onto the ingestion errors the state machine understands: still 429/5xx/unreachable
after the retries -> :class:`SourceUnavailableError` (retryable); any other 4xx ->
:class:`SourceConfigError` (a wrong id, key or URL: retrying cannot help), unless the caller
lists the status in ``accept`` (e.g. 404 for "no data for this id").

The network sits behind ``transport`` (a function ``HttpRequest -> HttpResponse``), so tests
replay recorded answers without a network; ``sleep``, ``clock`` and ``jitter`` are injectable
so retry timing is tested without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError

DEFAULT_USER_AGENT: Final = "quantdesk-ingestion/0.1"
RETRYABLE_STATUS: Final = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpRequest:
    url: str
    headers: Mapping[str, str]
    timeout_s: float


@dataclass(frozen=True)
class HttpResponse:
    """A vendor's answer; ``headers`` keys are lower case."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


#: the network: raises ``TimeoutError``/``OSError`` when no answer came, returns any status
Transport = Callable[[HttpRequest], HttpResponse]


def urllib_transport(request: HttpRequest) -> HttpResponse:
    """The real network (standard library; nothing to package)."""
    req = Request(request.url, headers=dict(request.headers))
    try:
        with urlopen(req, timeout=request.timeout_s) as answer:
            headers = {k.lower(): v for k, v in answer.headers.items()}
            return HttpResponse(answer.status, answer.read(), headers, request.url)
    except HTTPError as exc:  # a status, not a network failure
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        body = exc.read() if exc.fp is not None else b""
        return HttpResponse(exc.code, body, headers, request.url)
    except URLError as exc:  # DNS, refused, TLS...: retryable like a timeout
        raise ConnectionError(str(exc.reason)) from exc


def retry_after_s(value: str | None, now_epoch: float) -> float | None:
    """``Retry-After`` as seconds from now (it is either delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


class VendorHttp:
    """GET with per-host spacing, retries with backoff + jitter, a User-Agent and a timeout.

    One instance per source fetch; ``vendor`` names the vendor in error messages.
    """

    def __init__(
        self,
        vendor: str,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: Transport | None = None,
        timeout_s: float = 20.0,
        min_interval_s: float = 1.0,
        max_attempts: int = 4,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.vendor = vendor
        self.user_agent = user_agent
        self.transport = transport or urllib_transport
        self.timeout_s = timeout_s
        self.min_interval_s = min_interval_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.max_retry_after_s = max_retry_after_s
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self._next_slot: dict[str, float] = {}
        #: requests actually sent (retries included), for reports and tests
        self.requests_sent = 0

    def get(
        self,
        url: str,
        params: Mapping[str, object] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
    ) -> HttpResponse:
        """The 2xx answer (or one whose status is in ``accept``); raises as the module says."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        request = HttpRequest(
            url, {"User-Agent": self.user_agent, **(headers or {})}, self.timeout_s
        )
        host = urlsplit(url).netloc
        for attempt in range(1, self.max_attempts + 1):
            self._wait_for_slot(host)
            self.requests_sent += 1
            try:
                response = self.transport(request)
            except (TimeoutError, ConnectionError) as exc:
                problem, wait = f"no answer ({type(exc).__name__}: {exc})", None
            else:
                if 200 <= response.status < 300 or response.status in accept:
                    return response
                if response.status not in RETRYABLE_STATUS:
                    raise SourceConfigError(
                        f"{self.vendor} answered {response.status} for {redact(url)}"
                    )
                problem = f"answered {response.status}"
                wait = retry_after_s(response.headers.get("retry-after"), time.time())
                if wait is not None and wait > self.max_retry_after_s:
                    raise SourceUnavailableError(
                        f"{self.vendor} {problem} for {redact(url)}, retry after {wait:.0f}s"
                    )
            if attempt == self.max_attempts:
                raise SourceUnavailableError(
                    f"{self.vendor} {problem} for {redact(url)} after {attempt} attempts"
                )
            backoff = self.jitter(
                0.0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
            )
            delay = max(backoff, wait or 0.0)
            if wait is not None:  # the host asked everyone to hold off, not just this request
                self._next_slot[host] = max(self._next_slot.get(host, 0.0), self.clock() + wait)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for_slot(self, host: str) -> None:
        now = self.clock()
        slot = self._next_slot.get(host, now)
        if slot > now:
            self.sleep(slot - now)
            now = slot
        self._next_slot[host] = now + self.min_interval_s


#: query parameters never written to messages or logs
SECRET_PARAMS: Final = ("api_key", "apikey", "token", "key")


def redact(url: str) -> str:
    """The URL without secret query values (errors end up in run outcomes and logs)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [p.partition("=") for p in parts.query.split("&")]
    query = "&".join(
        f"{k}=***" if k.lower() in SECRET_PARAMS else f"{k}{eq}{v}" for k, eq, v in pairs
    )
    return parts._replace(query=query).geturl()
