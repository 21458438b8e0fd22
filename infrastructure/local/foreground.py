"""The endpoint's foreground: the writes a user is waiting on (a run's start, from the origin),
ahead of the background work (the executions' and the projector's writes, new executions).

On AWS the API's requests and the runs' work are served by separate fleets; here they share one
interpreter and two cores, and a hundred starts arriving together waited behind the writes and
interpreter steps of the runs the first starts had begun. While a foreground write is in flight
(and for :data:`LINGER_S` after the last one, which covers the gap between a start's two
requests), background work waits before it begins: at most :data:`MAX_YIELD_S` at a time, so a
steady stream of starts delays the runs but never starves them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Final

#: background work still waits this long after the last foreground write ended
LINGER_S: Final = 0.05
#: the longest one piece of background work waits for the foreground
MAX_YIELD_S: Final = 1.0

_changed = threading.Condition()
_pending = 0
_last_end = 0.0


@contextlib.contextmanager
def serving() -> Iterator[None]:
    """Around a foreground write: background work holds back until it (and the linger) ends."""
    global _pending, _last_end
    with _changed:
        _pending += 1
    try:
        yield
    finally:
        with _changed:
            _pending -= 1
            _last_end = time.monotonic()
            if not _pending:
                _changed.notify_all()


def busy() -> bool:
    return _pending > 0 or time.monotonic() - _last_end < LINGER_S


def yield_to_foreground(max_wait_s: float = MAX_YIELD_S) -> float:
    """Wait while the foreground is busy (at most ``max_wait_s``); the seconds waited."""
    if not busy():
        return 0.0
    started = time.monotonic()
    deadline = started + max_wait_s
    with _changed:
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if _pending:
                _changed.wait(deadline - now)
                continue
            quiet_in = _last_end + LINGER_S - now
            if quiet_in <= 0:
                break
            _changed.wait(min(quiet_in, deadline - now))
    return time.monotonic() - started
