"""Start the ingestion state machine and follow it to its end: used by ``quantdesk ingest`` and
by the local cloud's first-start sample load."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Final, TextIO

from quantdesk import aws
from quantdesk.settings import get_settings

POLL_S: Final = 0.2
TIMEOUT_S: Final = 1800


def _describe(event: dict[str, Any]) -> str | None:
    kind = event["type"]
    at = event["timestamp"].strftime("%H:%M:%S.%f")[:-3]
    if kind in ("TaskStateEntered", "PassStateEntered"):
        details = event.get("stateEnteredEventDetails", {})
        name = details.get("name", "?")
        source = ""
        try:
            payload = json.loads(details.get("input") or "{}")
            source = payload.get("source") or (payload.get("request") or {}).get("source") or ""
        except (TypeError, ValueError):
            pass
        return f"{at}  {name:<14} {source}".rstrip()
    if kind in ("TaskFailed", "LambdaFunctionFailed"):
        details = event.get("taskFailedEventDetails") or event.get(
            "lambdaFunctionFailedEventDetails", {}
        )
        return f"{at}  ! {details.get('error', 'error')}: {str(details.get('cause', ''))[:160]}"
    if kind == "ExecutionFailed":
        details = event.get("executionFailedEventDetails", {})
        why = f"{details.get('error', '')}: {str(details.get('cause', ''))[:300]}".strip(": ")
        return f"{at}  {kind}" + (f"  {why}" if why else "")
    if kind in ("MapStateEntered", "ExecutionSucceeded"):
        return f"{at}  {kind}"
    return None


def start_and_follow(
    sources: list[dict[str, Any]], run_id: str, out: TextIO = sys.stdout
) -> dict[str, Any]:
    """Start the execution named ``run_id`` and print its steps until it ends."""
    # the CLI imports this module to build its parser: boto3 waits
    from quantdesk.datalake.repository import SnapshotRepository  # noqa: PLC0415

    settings = get_settings()
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=settings.ingestion_arn, name=run_id, input=json.dumps({"sources": sources})
    )["executionArn"]
    print(f"ingestion {run_id} started ({', '.join(s['source'] for s in sources)})", file=out)
    seen = 0
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        for event in events[seen:]:
            line = _describe(event)
            if line:
                print(line, file=out, flush=True)
        seen = len(events)
        if status != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    summary = SnapshotRepository(settings.table_name).get_ingestion(run_id)
    return summary or {"run_id": run_id, "status": "failed", "message": f"execution {status}"}
