"""Faults the local cloud can inject, for the reliability report (``make reliability``) and
tests. Never part of the product: nothing is armed unless a caller arms it, and the origin
serves ``POST /_local/faults`` only when ``make up`` was started with ``QD_LOCAL_FAULTS=1``.

* ``throttle_run_writes``: the next N ``UpdateItem`` calls on run items fail with DynamoDB's
  ``ProvisionedThroughputExceededException`` (what a throttled Step Functions task sees);
* ``worker_crash``: the worker Lambda's next N invocations raise before the handler runs.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from infrastructure.resources import WORKER
from quantdesk import keys

ENABLE_VARIABLE: Final = "QD_LOCAL_FAULTS"
KINDS: Final = ("throttle_run_writes", "worker_crash")

_armed: dict[str, int] = dict.fromkeys(KINDS, 0)
_lock = threading.Lock()
_installed = False


class InjectedWorkerCrash(RuntimeError):
    """The crash ``worker_crash`` injects."""


def arm(kind: str, count: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
    with _lock:
        _armed[kind] = count


def arm_all(wanted: dict[str, int]) -> dict[str, int]:
    """Arm each ``{kind: count}``; what is armed now."""
    for kind, count in wanted.items():
        arm(kind, count)
    return armed()


def take(kind: str) -> bool:
    """Consume one armed occurrence of ``kind``: True when the caller must fail."""
    with _lock:
        if _armed[kind] <= 0:
            return False
        _armed[kind] -= 1
        return True


def armed() -> dict[str, int]:
    with _lock:
        return dict(_armed)


def before_invoke(function: str) -> None:
    """The Lambda runtime's hook: crash the worker when ``worker_crash`` is armed."""
    if function.endswith(f"-{WORKER.suffix}") and take("worker_crash"):
        raise InjectedWorkerCrash("the worker crashed (injected by the local cloud)")


def install() -> None:
    """Hook moto's DynamoDB backend (pinned to moto 5.2.5) so ``throttle_run_writes`` bites."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kw: Any) -> Any:
        is_run = key.get(keys.SK, {}).get("S") == keys.RUN_SK
        if is_run and take("throttle_run_writes"):
            raise DynamodbException(
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded "
                "(injected by the local cloud)",
            )
        return original(self, table_name, key, *args, **kw)

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    _installed = True
