"""Stand-in worker handlers for the state machine's branch tests (loaded like Lambda code)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from quantdesk import aws
from quantdesk.clock import now_iso
from quantdesk.runs.executions import Executions
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings


class LookbackTooLong(Exception):
    pass


class ShardFailed(Exception):
    pass


#: the plan job's answer for a run the single worker computes
SINGLE_PLAN: dict[str, Any] = {
    "mode": "single",
    "assets": 3,
    "total": 0,
    "bucket": "",
    "shards_key": "",
    "start": None,
    "end": None,
    "snapshots": {},
}
SHARDS = 3


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"result_key": f"runs/{event['run_id']}/result.json", "rows": 3}


def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The process dies mid-invoke (as a segfault in native code would end it)."""
    os._exit(139)


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise LookbackTooLong("lookback_days 900 is longer than the 250 days of history")


def _marker(run_id: str, name: str) -> str:
    return f"runs/{run_id}/test/{name}"


def _s3_put(run_id: str, name: str, body: bytes = b"") -> None:
    aws.client("s3").put_object(
        Bucket=get_settings().results_bucket, Key=_marker(run_id, name), Body=body
    )


def markers(run_id: str) -> list[str]:
    """What the sharded fakes did for ``run_id``: ``shard-<i>`` (once per attempt), ``reduce``."""
    listed = aws.client("s3").list_objects_v2(
        Bucket=get_settings().results_bucket, Prefix=_marker(run_id, "")
    )
    return sorted(o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", []))


def _sharded(event: dict[str, Any], shard: Any) -> dict[str, Any]:
    run_id = event["run_id"]
    if event["job"] == "plan":
        key = f"runs/{run_id}/shards/shards.json"
        pieces = [{"index": i, "symbols": [f"S{i}"]} for i in range(SHARDS)]
        aws.client("s3").put_object(
            Bucket=get_settings().results_bucket, Key=key, Body=json.dumps(pieces).encode()
        )
        plan = {**SINGLE_PLAN, "mode": "sharded", "total": SHARDS, "shards_key": key}
        return {**plan, "bucket": get_settings().results_bucket, "start": "2024-01-02"}
    if event["job"] == "shard":
        index = event["shard"]["index"]
        attempt = len([m for m in markers(run_id) if m.startswith(f"shard-{index}-")])
        _s3_put(run_id, f"shard-{index}-{attempt}")
        shard(event, index)
        return {"index": index, "partial_key": "x"}
    assert event["plan"]["total"] == SHARDS
    _s3_put(run_id, "reduce")
    return {"result_key": f"runs/{run_id}/result.json", "rows": 3}


def sharded(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _sharded(event, lambda event, index: None)


def planned_small(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A run that may have been large: the plan finds it small, the single worker runs it."""
    if event.get("job") == "plan":
        _s3_put(event["run_id"], "plan")
        return SINGLE_PLAN
    _s3_put(event["run_id"], "single")
    return succeed(event, context)


def sharded_one_fails(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def shard(event: dict[str, Any], index: int) -> None:
        if index == 1:
            raise ShardFailed(f"shard 1 of {SHARDS} (1 assets) failed: ValueError: bad rows")

    return _sharded(event, shard)


def sharded_cancelled(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The user cancels while shard 0 computes: the API ends the run and stops the execution
    (as ``RunService.cancel``); the other shards then find the run no longer running."""

    def shard(event: dict[str, Any], index: int) -> None:
        run_id = event["run_id"]
        if index == 0:
            cancel = RunError(type="Cancelled", message="by user")
            RunRepository(get_settings().table_name).finish(run_id, "cancelled", now_iso(), cancel)
            Executions(get_settings().scenario_run_arn).stop(run_id)
            return
        time.sleep(0.5)
        run = RunRepository(get_settings().table_name).get(run_id)
        if run is None or run.status != "running":
            raise RunCancelled(f"run {run_id} is no longer running")

    return _sharded(event, shard)


class RunCancelled(Exception):
    pass


def cancel_then_succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    RunRepository(get_settings().table_name).finish(
        event["run_id"], "cancelled", now_iso(), RunError(type="Cancelled", message="by user")
    )
    return succeed(event, context)
