"""When the local cloud's Step Functions executions begin: admitted in start order, one at a
time, while no run's start is in flight, and at most ``slots`` evaluating at once.

AWS runs every execution at once and the worker Lambdas' concurrency limit queues the work.
moto starts each execution's interpreter thread inside its ``StartExecution`` request, so that
request (and the write lock it holds) paid for the thread's start and for the new thread's
first steps (copying the program, building its environment), and a hundred runs started
together became a hundred threads contending for one interpreter lock with every later
request, a run's own start among them. Here ``StartExecution`` only records the execution
(``RUNNING``, stoppable) and queues it; one admission thread starts the queued executions in
order, each once the foreground (``foreground``: the starts in flight) is quiet and a slot is
free. A stop that reaches an execution still waiting begins it at once: it ends ``ABORTED``
before it evaluates a state. With a few slots per worker process the workers stay busy, so
runs finish as fast as before while the endpoint stays responsive. Pinned to moto 5.2.5.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infrastructure.local import foreground

log = logging.getLogger("quantdesk.local.admission")
_slots: threading.Semaphore | None = None
_waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()


def install(slots: int) -> None:
    """At most ``slots`` executions evaluate at once (a later call changes the limit)."""
    global _slots
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: PLC0415

    first = _slots is None
    _slots = threading.Semaphore(slots)
    if not first:
        return
    begin = ExecutionWorker.start
    logic = ExecutionWorker._execution_logic
    environment = ExecutionWorker._get_evaluation_environment
    stop = ExecutionWorker.stop

    def queue_start(self: Any) -> None:
        # its environment now: moto reads every execution's (history, callbacks) from the start
        self.env = environment(self)
        self._admission = threading.Lock()
        self._begun = False
        _waiting.put(self)

    def prepared_environment(self: Any) -> Any:
        return self.__dict__.get("env") or environment(self)

    def admitted_logic(self: Any) -> None:
        try:
            logic(self)
        finally:
            if getattr(self, "_holds_slot", False) and _slots is not None:
                _slots.release()

    def stop_or_abort(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
        lock = getattr(self, "_admission", None)
        if lock is not None:
            with lock:
                if not self._begun:  # still waiting: it ends now, before its first state
                    self._begun = True
                    # on a thread of its own, as an execution ends: its end is logged under
                    # the endpoint's write lock, which this StopExecution request holds
                    threading.Thread(
                        target=abort_unbegun,
                        args=(self, stop_date, error, cause),
                        name="execution-abort",
                        daemon=True,
                    ).start()
                    return
        stop(self, stop_date=stop_date, error=error, cause=cause)

    ExecutionWorker.start = queue_start  # type: ignore[method-assign]
    ExecutionWorker._execution_logic = admitted_logic  # type: ignore[method-assign]
    ExecutionWorker._get_evaluation_environment = prepared_environment  # type: ignore[method-assign]
    ExecutionWorker.stop = stop_or_abort  # type: ignore[method-assign]
    threading.Thread(target=admit, args=(begin,), name="execution-admission", daemon=True).start()


def admit_next(begin: Callable[[Any], None]) -> None:
    """Begin the next waiting execution once the foreground is quiet and a slot is free."""
    worker = _waiting.get()
    foreground.yield_to_foreground()  # a start in flight goes first
    slots = _slots
    assert slots is not None
    slots.acquire()
    with worker._admission:
        if worker._begun:  # stopped while it waited: ended already
            slots.release()
            return
        worker._begun = worker._holds_slot = True
        try:
            begin(worker)
        except Exception as exc:  # e.g. no thread to be had: it ends, and the next goes on
            log.exception("an execution could not begin; it ends aborted")
            worker._holds_slot = False
            slots.release()
            cause = f"the local cloud could not begin the execution: {exc}"
            abort_unbegun(worker, datetime.now(UTC), "States.Runtime", cause)


def admit(begin: Callable[[Any], None]) -> None:
    while True:
        try:
            admit_next(begin)
        except Exception:  # one execution that cannot begin must not stop the others
            log.exception("the admission of an execution failed")


def abort_unbegun(worker: Any, stop_date: Any, error: Any, cause: Any) -> None:
    """End an execution that never began as Step Functions ends one stopped at once: history
    ``ExecutionStarted``, ``ExecutionAborted``; status ``ABORTED``."""
    from moto.stepfunctions.parser.api import (  # noqa: PLC0415
        ExecutionAbortedEventDetails,
        ExecutionStartedEventDetails,
        HistoryEventExecutionDataDetails,
        HistoryEventType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str  # noqa: PLC0415

    env = worker.env
    details = worker._evaluation_details
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionStarted,
        event_details=EventDetails(  # type: ignore[typeddict-item]
            executionStartedEventDetails=ExecutionStartedEventDetails(
                input=to_json_str(details.execution_details.inpt),
                inputDetails=HistoryEventExecutionDataDetails(truncated=False),
                roleArn=details.aws_execution_details.role_arn,
            )
        ),
        update_source_event_id=False,
    )
    env.next_state_name = "(never begun)"  # running, so that the stop takes
    env.set_stop(stop_date=stop_date, cause=cause, error=error)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionAborted,
        event_details=EventDetails(  # type: ignore[typeddict-item]
            executionAbortedEventDetails=ExecutionAbortedEventDetails(error=error, cause=cause)
        ),
    )
    worker._execution_communication.terminated()
