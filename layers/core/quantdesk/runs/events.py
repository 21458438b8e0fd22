"""The projector's logic: a run item's stream image -> the ordered, immutable run event.

Every write to a run item bumps ``event_seq`` and says what it was (``last_event``), so one stream
record maps to exactly one event with a per-run, strictly increasing sequence number. Storing
events with a condition on the sequence number makes the projection idempotent: a retried batch
never duplicates or reorders events.
"""

from __future__ import annotations

from typing import Any

from quantdesk.runs.models import Run, RunEvent
from quantdesk.runs.repository import decode_item, run_from_item


def event_from_image(image: dict[str, Any]) -> RunEvent:
    run = run_from_item(image)
    kind = decode_item({"last_event": image.get("last_event", {"S": "status"})})["last_event"]
    return RunEvent(
        run_id=run.run_id,
        seq=run.event_seq,
        event=kind,
        status=run.status,
        at=run.updated_at,
        progress=run.progress if kind == "progress" else None,
        error=run.error if kind == "status" else None,
        result_summary=run.result_summary if kind == "result" else None,
    )


def terminal_event(run: Run) -> RunEvent | None:
    """A terminal run item's last event, as :func:`event_from_image` makes it from that write
    (nothing writes a run item after its terminal status); None while the run is active."""
    if not run.terminal:
        return None
    return RunEvent(
        run_id=run.run_id,
        seq=run.event_seq,
        event="status",
        status=run.status,
        at=run.updated_at,
        error=run.error,
    )
