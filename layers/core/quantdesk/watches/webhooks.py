"""Webhooks: which URLs may receive alerts, the body's signature, the POST itself.

Allowed: ``https`` URLs of public hosts, without credentials. Never a private, loopback,
link-local or otherwise reserved address (checked on the URL at creation, and on the resolved
address again before each POST, so a name re-pointed at the metadata service gets nothing).
Off AWS (the local cloud, tests) ``http``/``https`` to the loopback host is allowed too, so a
receiver on the researcher's own machine can be tried.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import urllib.error
import urllib.request
from typing import Final
from urllib.parse import urlsplit

SIGNATURE_HEADER: Final = "X-Quantdesk-Signature"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookRefused(ValueError):
    """The URL may not receive alerts (the message says why)."""


class DeliveryFailed(Exception):
    """The receiver did not take the alert (network error, timeout, non-2xx answer)."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def _literal_address(host: str) -> str | None:
    """The IP address ``host`` spells, in any form the resolver accepts ("10.1", "0177.0.0.1",
    "0x7f000001" are IPv4 addresses to it), or None for a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str, *, allow_loopback: bool) -> None:
    """Raise :class:`WebhookRefused` unless ``url`` may receive alerts (see the module)."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise WebhookRefused("the URL has spaces or control characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")  # "localhost." is localhost
        _ = parts.port  # a malformed port raises here
    except ValueError as exc:
        raise WebhookRefused("not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused("only http(s) URLs receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused("credentials in the URL are not allowed (the body is signed)")
    if not host:
        raise WebhookRefused("the URL has no host")
    if host in LOOPBACK_HOSTS:
        if allow_loopback:
            return
        raise WebhookRefused("loopback addresses are allowed only on the local cloud")
    if parts.scheme != "https":
        raise WebhookRefused("webhooks must use https")
    literal = _literal_address(host)
    if literal is None:
        if host.endswith((".local", ".internal", ".localhost")) or "." not in host:
            raise WebhookRefused("internal host names are not allowed")
        return
    if not _is_public(literal):
        raise WebhookRefused("private, loopback and reserved addresses are not allowed")


def _resolves_public(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return True  # the POST itself then fails and is retried
    return all(_is_public(str(info[4][0]).split("%")[0]) for info in infos)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new target: following it would bypass the checks."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body, keyed by the watch's secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, body: bytes, secret: str, *, timeout_s: float, allow_loopback: bool) -> int:
    """POST the signed body; the receiver's status (2xx) or :class:`DeliveryFailed`."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    if not (allow_loopback and host in LOOPBACK_HOSTS) and not _resolves_public(url):
        raise DeliveryFailed("the host resolves to a private address")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "quantdesk-webhooks/1",
            SIGNATURE_HEADER: signature(secret, body),
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"the receiver answered {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(f"could not reach the receiver: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the receiver answered {status}")
    return status
