"""The local cloud's garbage collection: no full collection on the request path, cyclic
garbage still freed (in the background)."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from infrastructure.local import collector


@pytest.fixture
def installed() -> Iterator[None]:
    thresholds = gc.get_threshold()
    stop = collector.install(every_s=0.05)
    yield
    stop.set()
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


def test_allocation_never_runs_a_full_collection_and_cycles_are_still_freed(
    installed: None,
) -> None:
    full: list[str] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(threading.current_thread().name)

    garbage = Node()
    freed = threading.Event()
    weakref.finalize(garbage, freed.set)
    del garbage
    gc.callbacks.append(watch)
    try:
        kept = [[i] for i in range(300_000)]  # many times past every automatic threshold
        assert freed.wait(2)
        time.sleep(0.1)
    finally:
        gc.callbacks.remove(watch)
    assert kept
    assert full and set(full) == {"full-collections"}
    assert gc.get_freeze_count() > 0  # start-up's objects are out of every collection
