"""Run ids: 26 lowercase Crockford base32 chars, sortable by creation time (ULID layout)."""

from __future__ import annotations

import hashlib
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, index = divmod(number, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def new_run_id() -> str:
    return _encode(time.time_ns() // 1_000_000, 10) + _encode(secrets.randbits(80), 16)


def idempotent_run_id(owner: str, idempotency_key: str) -> str:
    """The same (owner, key) always names the same run, so a retried POST cannot start two."""
    digest = int.from_bytes(hashlib.sha256(f"{owner}\x00{idempotency_key}".encode()).digest())
    return _encode(digest, 26)
