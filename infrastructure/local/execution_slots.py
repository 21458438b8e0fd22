"""How many Step Functions executions the local cloud evaluates at once.

AWS runs every execution at once and the worker Lambdas' concurrency limit queues the work.
moto's interpreter runs each execution on a thread of the local cloud's process, so a hundred
runs started together meant a hundred threads contending for one interpreter lock, and every
request to the endpoint (a run's own start among them) waited behind them. Here at most
``slots`` executions evaluate at a time; the others wait, started (``RUNNING``, stoppable) but
idle, for a free slot, in start order. With a few slots per worker process the workers stay
busy, so runs finish as fast as before while the endpoint stays responsive. A new execution
also waits, briefly, for the starts in flight (``foreground``).
"""

from __future__ import annotations

import threading
from typing import Any

from infrastructure.local import foreground

_slots: threading.Semaphore | None = None


def install(slots: int) -> None:
    """Limit moto's interpreter to ``slots`` executions at a time (pinned to moto 5.2.5)."""
    global _slots
    from moto.stepfunctions.parser.asl.component.program.program import Program

    first = _slots is None
    _slots = threading.Semaphore(slots)
    if not first:
        return
    original = Program.eval

    def evaluate(self: Any, env: Any) -> Any:
        # only an execution's own program takes a slot: Map iterations run in frames of it
        if env.is_frame() or _slots is None:
            return original(self, env)
        foreground.yield_to_foreground()  # a new execution begins when no start is waiting
        with _slots:
            return original(self, env)

    Program.eval = evaluate  # type: ignore[method-assign]
