"""Stand-in worker handlers for the state machine's branch tests (loaded like Lambda code)."""

from __future__ import annotations

from typing import Any

from quantdesk.clock import now_iso
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings


class LookbackTooLong(Exception):
    pass


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"result_key": f"runs/{event['run_id']}/result.json", "rows": 3}


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise LookbackTooLong("lookback_days 900 is longer than the 250 days of history")


def cancel_then_succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    RunRepository(get_settings().table_name).finish(
        event["run_id"], "cancelled", now_iso(), RunError(type="Cancelled", message="by user")
    )
    return succeed(event, context)
