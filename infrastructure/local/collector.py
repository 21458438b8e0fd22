"""The local cloud's garbage collection, kept out of the way of the requests a user waits on.

CPython's cycle collector runs in whichever thread allocates past a threshold, holding the
interpreter lock. The endpoint's heap is moto's state (every table item, execution and history
event is a Python object), so a full collection walked it for 0.2-0.5 s, stopping every
request, and under a hundred starts the collector took about 0.6 s of the 2 s the starts
waited (4 s of CPU across the whole burst's runs; measured with ``gc.callbacks``). Here, once
the stack is ready: what start-up built (moto, the deployed stack, the restored state) is
frozen out of collection; young objects are collected less often; and full collections are
never triggered by an allocation but run on a background thread every :data:`FULL_EVERY_S`,
once no start is in flight (``foreground``).
"""

from __future__ import annotations

import gc
import threading
from typing import Final

from infrastructure.local import foreground

#: allocations between young collections (CPython's default is 700)
YOUNG_THRESHOLD: Final = 20_000
#: young collections between middle-generation collections (the default is 10)
MIDDLE_THRESHOLD: Final = 10
#: never reached: full collections are :func:`_collect_fully`'s alone
NO_AUTOMATIC_FULL: Final = 1 << 30
FULL_EVERY_S: Final = 30.0


def install(every_s: float = FULL_EVERY_S) -> threading.Event:
    """Freeze what exists now and take full collections off the request path; setting the
    returned event ends the background collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, NO_AUTOMATIC_FULL)
    stop = threading.Event()
    threading.Thread(
        target=_collect_fully, args=(every_s, stop), name="full-collections", daemon=True
    ).start()
    return stop


def _collect_fully(every_s: float, stop: threading.Event) -> None:
    while not stop.wait(every_s):
        foreground.yield_to_foreground()
        gc.collect()
