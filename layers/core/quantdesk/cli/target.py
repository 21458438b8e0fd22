"""Which stack a command talks to (``--url``, default ``$QUANTDESK_URL`` or the local origin),
and the error every command reports the same way (exit code 2). Light on purpose: every
command module imports it to build the parser."""

from __future__ import annotations

import os
from typing import Final
from urllib.parse import urlsplit

DEFAULT_URL: Final = os.environ.get("QUANTDESK_URL", "http://127.0.0.1:8080")
LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")


class CliError(Exception):
    """A problem to report to the researcher (exit code 2)."""


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in LOOPBACK
