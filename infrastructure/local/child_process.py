"""What every process the local cloud spawns (the origin, the analytics workers) does at start:
end with its parent. A parent killed with SIGKILL cannot stop its children; without this they
would live on, holding the origin's port and the workers' memory, into the next ``make up``."""

from __future__ import annotations

import os
import threading
import time
from typing import Final

#: how often a child checks that its parent is alive
PARENT_CHECK_S: Final = 0.25


def exit_with_parent(parent_pid: int) -> None:
    """Exit this process as soon as ``parent_pid`` is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def background_worker(parent_pid: int, niceness: int) -> None:
    """A worker process's initializer: end with the parent and run at a lower priority, so the
    batch work (the analytics) yields the cores to the processes answering requests."""
    exit_with_parent(parent_pid)
    os.nice(niceness)
