"""Run ids: 26 lowercase Crockford base32 chars, sortable by creation time (ULID layout)."""

from __future__ import annotations

import re
import secrets
import time
from typing import Final

from quantdesk.errors import NotFound, quoted

#: a run id (watch and alert ids have its shape)
RUN_ID_PATTERN: Final = r"^[0-9a-z]{26}$"
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, index = divmod(number, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def new_run_id(epoch_ms: int | None = None) -> str:
    """A new id created now (or at ``epoch_ms``)."""
    ms = time.time_ns() // 1_000_000 if epoch_ms is None else epoch_ms
    return _encode(ms, 10) + _encode(secrets.randbits(80), 16)


def floor_id(epoch_ms: int) -> str:
    """The smallest id created at ``epoch_ms``: ids of a time range sort between two floors."""
    return _encode(epoch_ms, 10) + "0" * 16


def ceiling_id(epoch_ms: int) -> str:
    """The largest id created at ``epoch_ms``."""
    return _encode(epoch_ms, 10) + _ALPHABET[-1] * 16


def created_ms(run_id: str) -> int:
    """The creation time (epoch ms) a run id carries in its first ten characters."""
    number = 0
    for char in run_id[:10]:
        number = number * 32 + _ALPHABET.index(char)
    return number


def check_id(value: str, field: str = "run_id") -> None:
    """A path's id: one not of the run id's shape (runs, and watches and alerts, whose ids have
    it) names nothing, a 404 naming ``field`` before anything is looked up."""
    if not re.match(RUN_ID_PATTERN, value):
        raise NotFound(f"no {field.removesuffix('_id')} {quoted(value)}", field=field)
