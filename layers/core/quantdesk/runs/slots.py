"""Give a run's in-flight slot back when its run item turns terminal.

Every path that ends a run writes its run item (the state machine's own writes, cancel, the
reconciler, the sweeper, restart reconciliation), so the projector, which sees each of those
writes on the table's stream with the item's old and new images, releases the slot for all of
them. Only a write that moves the run from a non-terminal to a terminal status releases: a run
stored already terminal (a result-cache answer) never held a slot.

A release that fails is logged, not retried: retrying would hold back the stream (and, after the
bounded retries, set aside a record whose event is already stored), while the limits' reconcile
when a start finds the set full frees a lost release anyway. Releasing is idempotent, so a
redelivered record is harmless.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError

from quantdesk import keys
from quantdesk.errors import ServiceUnavailable
from quantdesk.observability import logger
from quantdesk.runs.limits import RunLimits
from quantdesk.runs.models import TERMINAL


def _status(image: dict[str, Any] | None) -> str | None:
    return (image or {}).get("status", {}).get("S")


def ended_run(change: dict[str, Any]) -> tuple[str, str] | None:
    """``(owner, run_id)`` when the stream record's ``dynamodb`` part ``change`` is a run item
    whose status moved from non-terminal to terminal; None for any other record."""
    old, new = change.get("OldImage"), change.get("NewImage")
    if not old or not new or new.get(keys.SK, {}).get("S") != keys.RUN_SK:
        return None
    if _status(old) in TERMINAL or _status(new) not in TERMINAL:
        return None
    owner, run_id = new.get("owner", {}).get("S"), new.get("run_id", {}).get("S")
    if not owner or not run_id:
        return None
    return owner, run_id


def release_if_ended(limits: RunLimits, change: dict[str, Any]) -> bool:
    """Release the slot of the run ``change`` ends (see :func:`ended_run`); True if released.
    A failed release is logged and left to the limits' reconcile-on-full."""
    ended = ended_run(change)
    if ended is None:
        return False
    owner, run_id = ended
    try:
        limits.release(owner, run_id)
    except (ServiceUnavailable, BotoCoreError) as exc:
        logger.warning(
            "could not release the run's slot; a start finding the set full frees it",
            extra={"run_id": run_id, "error": str(exc)},
        )
        return False
    return True
