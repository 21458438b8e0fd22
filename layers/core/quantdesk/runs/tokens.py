"""Short-lived stream tokens bound to an owner and a scope (HMAC-SHA256).

A run token opens one run's stream (``issue``/``verify``), an inbox token the owner's alert
inbox (``issue_inbox``/``verify_inbox``); the scope (``run:<run_id>`` or ``inbox``) is part of
the signed message, so neither opens the other.

A token is ``<expires>.<owner, base64url>.<signature, base64url>`` with exactly one accepted
spelling: the parsed parts are encoded again and must give back the token character for
character (no ``+exp``, ``0exp``, ``1_0`` or padded/non-canonical base64 variants). The key
lives in Secrets Manager (read with Powertools Parameters, cached); no key ships with the code:
the local cloud puts a random one in its own endpoint, the template creates one on AWS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from functools import cache
from typing import Any, Final

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable, Unauthorized

#: minutes, not hours: the API's run view hands out a fresh stream URL on every read
DEFAULT_TTL_S: Final = 600
#: how long a process keeps the key before reading the secret again (rotation)
KEY_CACHE_S: Final = 300
MIN_KEY_CHARS: Final = 32
MAX_TOKEN_CHARS: Final = 512


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


#: the scope of the owner's inbox token (a run's scope is ``run:<run_id>``)
INBOX_SCOPE: Final = "inbox"


def _run_scope(run_id: str) -> str:
    return f"run:{run_id}"


def _signature(key: str, scope: str, owner: str, expires: int) -> str:
    message = f"{scope}\n{owner}\n{expires}".encode()
    return _b64(hmac.new(key.encode(), message, hashlib.sha256).digest())


def _encode(key: str, scope: str, owner: str, expires: int) -> str:
    return f"{expires}.{_b64(owner.encode())}.{_signature(key, scope, owner, expires)}"


def issue(key: str, run_id: str, owner: str, ttl_s: int = DEFAULT_TTL_S) -> str:
    """A token for one run's stream."""
    return _encode(key, _run_scope(run_id), owner, int(time.time()) + ttl_s)


def issue_inbox(key: str, owner: str, ttl_s: int = DEFAULT_TTL_S) -> str:
    """A token for the owner's inbox stream."""
    return _encode(key, INBOX_SCOPE, owner, int(time.time()) + ttl_s)


def verify(key: str, run_id: str, token: str | None) -> str:
    """The owner a token for ``run_id``'s stream was issued to; Unauthorized when missing,
    forged, expired or issued for another scope."""
    return _verify(key, _run_scope(run_id), token)


def verify_inbox(key: str, token: str | None) -> str:
    """The owner an inbox token was issued to (Unauthorized as for :func:`verify`)."""
    return _verify(key, INBOX_SCOPE, token)


def _verify(key: str, scope: str, token: str | None) -> str:
    if not token:
        raise Unauthorized("a stream token is required", field="token")
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise Unauthorized("malformed stream token", field="token")
    try:
        expires_text, owner_b64, _ = token.split(".")
        expires = int(expires_text)
        owner = _unb64(owner_b64).decode()
    except (ValueError, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
        raise Unauthorized("malformed stream token", field="token") from exc
    expected = _encode(key, scope, owner, expires)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise Unauthorized("invalid stream token", field="token")
    if expires < time.time():
        raise Unauthorized("stream token expired", field="token")
    return owner


@cache
def _provider(client: Any) -> Any:
    # deferred: only the functions that issue or check stream tokens pay for Parameters
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415

    return SecretsProvider(boto3_client=client)


def signing_key(secret_name: str) -> str:
    """The stream tokens' HMAC key from Secrets Manager (cached for ``KEY_CACHE_S``)."""
    try:
        key = _provider(aws.client("secretsmanager")).get(secret_name, max_age=KEY_CACHE_S)
    except Exception as exc:  # GetParameterError wraps every client failure
        raise ServiceUnavailable("the stream signing key is unavailable") from exc
    if not isinstance(key, str) or len(key) < MIN_KEY_CHARS:
        raise ServiceUnavailable("the stream signing key is too short")
    return key
