"""The local endpoint's foreground: background work waits while a start's write is in flight,
resumes soon after it, and never waits beyond its bound."""

from __future__ import annotations

import threading
import time

from infrastructure.local import foreground


def _waited_for_a_write(write_s: float, max_wait_s: float) -> float:
    """How long background work waited that asked while a foreground write took ``write_s``."""
    inside, release = threading.Event(), threading.Event()

    def write() -> None:
        with foreground.serving():
            inside.set()
            release.wait(write_s)

    writer = threading.Thread(target=write)
    writer.start()
    inside.wait()
    waited = foreground.yield_to_foreground(max_wait_s)
    release.set()
    writer.join()
    return waited


def test_background_work_waits_for_the_write_in_flight_then_the_linger() -> None:
    waited = _waited_for_a_write(write_s=0.2, max_wait_s=5)
    assert 0.2 <= waited < 0.2 + foreground.LINGER_S + 0.5
    time.sleep(foreground.LINGER_S)
    # once the foreground is quiet, nothing waits
    assert not foreground.busy()
    assert foreground.yield_to_foreground() == 0.0


def test_background_work_never_waits_beyond_its_bound() -> None:
    waited = _waited_for_a_write(write_s=3, max_wait_s=0.1)
    assert 0.1 <= waited < 1
