"""moto's in-memory state, as the local cloud's persistence needs it: pickled and installed
back, executions listed and ended, and a replay mode without side effects.

Tied to moto 5.2.5's internals (the Step Functions interpreter's ``Execution`` and
``ExecutionWorker``, the backend registries); tests/unit/local/test_persistence.py checks them.
moto is imported inside the functions: it reads its account id when first imported, which must
happen after the local cloud has set it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import pickle
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

INTERRUPTED = "interrupted by a restart"


class FrozenWorker:
    """Stands in for an execution's worker after a restore: its history, no thread."""

    def __init__(self, history: list[Any]) -> None:
        self.env = self
        self.event_manager = self
        self._history = history

    def get_event_history(self) -> list[Any]:
        return list(self._history)

    def stop(self, stop_date: Any = None, cause: Any = None, error: Any = None) -> None:
        """Nothing runs any more: restored executions are ended by :func:`end_running`."""


def _weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _defaults(factory: type, items: dict[Any, Any]) -> defaultdict[Any, Any]:
    return defaultdict(factory, items)


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415

    return load_pem_private_key(pem, password=None)


def _key_reduction(key: Any) -> Any:
    """A cryptography private key (Cognito's signing key) as PEM."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _private_key, (pem,)


class _StatePickler(pickle.Pickler):
    """Locks are recreated empty, an execution's live worker becomes a :class:`FrozenWorker`
    with its history, weak-value maps keep their (elsewhere owned) values, a defaultdict
    whose factory is a lambda returning an empty dict/list/set gets that type instead, and
    private keys travel as PEM."""

    _lock_types = (type(threading.Lock()), type(threading.RLock()))

    def reducer_override(self, obj: Any) -> Any:
        from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: PLC0415

        if isinstance(obj, self._lock_types):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock), ()
        if isinstance(obj, weakref.WeakValueDictionary):
            return _weak_values, (dict(obj.items()),)
        if (
            isinstance(obj, defaultdict)
            and getattr(obj.default_factory, "__name__", "") == "<lambda>"
        ):
            empty = obj.default_factory()  # type: ignore[misc]
            if type(empty) in (dict, list, set) and not empty:
                return _defaults, (type(empty), dict(obj))
        if type(obj).__module__.startswith("cryptography") and hasattr(obj, "private_bytes"):
            return _key_reduction(obj)
        if isinstance(obj, ExecutionWorker | FrozenWorker):
            env = obj.env
            history = env.event_manager.get_event_history() if env is not None else []
            return FrozenWorker, (history,)
        return NotImplemented


#: registries whose state is only working state (stream iterators, caller identities)
TRANSIENT = frozenset({"dynamodbstreams", "sts"})


def _registries(services: Iterable[str]) -> dict[str, Any]:
    """moto's live backend registries (``BackendDict``) for the service names given; Step
    Functions' executing interpreter keeps its own."""
    from moto.backends import get_backend  # noqa: PLC0415
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # noqa: PLC0415

    found: dict[str, Any] = {}
    for name in sorted(services):
        if name == "stepfunctions":
            found["stepfunctions-parser"] = stepfunctions_parser_backends
        with contextlib.suppress(KeyError, ModuleNotFoundError, AttributeError, ValueError):
            found[name] = get_backend(name)  # type: ignore[call-overload]
    return found


def _in_use() -> set[str]:
    """Every service holding state, however it got there (a CloudFormation stack creates its
    tables in-process, not through a request to DynamoDB)."""
    from moto.core.base_backend import BackendDict  # noqa: PLC0415

    registries: list[Any] = list(BackendDict._instances)  # type: ignore[misc]
    return {str(r.service_name) for r in registries if len(r)} - TRANSIENT


def dump() -> bytes:
    """``{service: {account: {region: backend}}}`` for every service in use, as one pickle (so
    references between services' objects hold after loading)."""
    state = {
        name: {account: dict(regions.items()) for account, regions in list(registry.items())}
        for name, registry in _registries(_in_use()).items()
    }
    buffer = io.BytesIO()
    _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return buffer.getvalue()


def load(payload: bytes) -> None:
    """Install pickled backends into moto's live registries."""
    state: dict[str, dict[str, dict[str, Any]]] = pickle.loads(payload)
    live = _registries(state)
    for name, accounts in state.items():
        for account, regions in accounts.items():
            for region, backend in regions.items():
                live[name][account][region] = backend


# -- executions -------------------------------------------------------------------------------


def executions() -> Iterator[Any]:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # noqa: PLC0415

    for regions in list(stepfunctions_parser_backends.values()):
        for backend in list(regions.values()):
            for machine in list(backend.state_machines):
                yield from list(machine.executions)


def execution_ended(execution: Any) -> dict[str, Any]:
    """How an execution ended, as a log record."""
    stop = execution.stop_date
    return {
        "kind": "execution-ended",
        "arn": execution.exec_arn,
        "status": execution.exec_status.value if execution.exec_status else None,
        "stop_date": stop.isoformat() if stop else None,
        "output": execution.output,
        "error": execution.error,
        "cause": execution.cause,
    }


def apply_execution_ended(record: dict[str, Any]) -> bool:
    from moto.stepfunctions.parser.api import ExecutionStatus  # noqa: PLC0415

    for execution in executions():
        if execution.exec_arn == record["arn"]:
            execution.exec_status = ExecutionStatus(record["status"])
            stop = record.get("stop_date")
            execution.stop_date = dt.datetime.fromisoformat(stop) if stop else None
            execution.output = record.get("output")
            execution.error = record.get("error")
            execution.cause = record.get("cause")
            return True
    return False


def end_running(on_end: Callable[[Any], None]) -> list[str]:
    """After a restart no execution runs: end those left ``RUNNING`` as ``ABORTED``."""
    from moto.stepfunctions.parser.api import ExecutionStatus  # noqa: PLC0415

    ended = []
    now = dt.datetime.now(tz=dt.UTC)
    for execution in executions():
        if execution.exec_status == ExecutionStatus.RUNNING:
            execution.exec_status = ExecutionStatus.ABORTED
            execution.stop_date = now
            execution.error, execution.cause = "States.Aborted", INTERRUPTED
            on_end(execution)
            ended.append(execution.exec_arn)
    return ended


@contextlib.contextmanager
def without_side_effects() -> Iterator[None]:
    """While replaying: executions are recorded but not run, Lambda functions not invoked."""
    from moto.awslambda.models import LambdaFunction  # noqa: PLC0415
    from moto.stepfunctions.parser.api import ExecutionStatus  # noqa: PLC0415
    from moto.stepfunctions.parser.backend.execution import Execution  # noqa: PLC0415

    def record_only(execution: Any) -> None:
        execution.exec_worker = FrozenWorker([])
        execution.exec_status = ExecutionStatus.RUNNING

    def no_invoke(function: Any, event: Any = None) -> tuple[str, bool, str]:
        return json.dumps({"errorMessage": "not invoked while restoring"}), True, ""

    saved = Execution.start, LambdaFunction._invoke_lambda
    Execution.start = record_only  # type: ignore[method-assign,assignment]
    LambdaFunction._invoke_lambda = no_invoke  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Execution.start, LambdaFunction._invoke_lambda = saved  # type: ignore[method-assign,assignment]


_on_execution_end: Callable[[Any], None] | None = None


def on_execution_end(callback: Callable[[Any], None] | None) -> None:
    """Call ``callback(execution)`` when an execution ends (its interpreter changes the status
    in memory, not over HTTP, so the log must be told)."""
    global _on_execution_end
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication  # noqa: PLC0415

    _on_execution_end = callback
    original = BaseExecutionWorkerCommunication.terminated
    if getattr(original, "_quantdesk_hook", False):
        return

    def terminated(comm: Any) -> None:
        original(comm)
        held = any(execution is comm.execution for execution in executions())
        if _on_execution_end is not None and held:  # not one of a state since replaced
            _on_execution_end(comm.execution)

    terminated._quantdesk_hook = True  # type: ignore[attr-defined]
    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign,assignment]


def seed_random(seed: int) -> None:
    """moto draws ids from one seedable source: seeded per logged request, replay draws the
    same ids."""
    from moto.moto_api._internal import mock_random  # noqa: PLC0415

    mock_random.seed(seed)
