"""Short-lived stream tokens bound to a run and its owner (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from quantdesk.errors import Unauthorized

DEFAULT_TTL_S = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, run_id: str, owner: str, expires: int) -> str:
    message = f"{run_id}\n{owner}\n{expires}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def issue(secret: str, run_id: str, owner: str, ttl_s: int = DEFAULT_TTL_S) -> str:
    expires = int(time.time()) + ttl_s
    return f"{expires}.{_b64(owner.encode())}.{_signature(secret, run_id, owner, expires)}"


def verify(secret: str, run_id: str, token: str | None) -> str:
    """The owner the token was issued to; Unauthorized when missing, forged or expired."""
    if not token:
        raise Unauthorized("a stream token is required", field="token")
    try:
        expires_text, owner_b64, signature = token.split(".")
        expires = int(expires_text)
        owner = _unb64(owner_b64).decode()
    except ValueError as exc:
        raise Unauthorized("malformed stream token", field="token") from exc
    expected = _signature(secret, run_id, owner, expires)
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("invalid stream token", field="token")
    if expires < time.time():
        raise Unauthorized("stream token expired", field="token")
    return owner
