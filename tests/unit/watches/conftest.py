"""Watch fixtures: moto with a scenario-run machine that just waits (so runs start without
computing), the delivery queue with its dead-letter queue, the secrets' KMS key, and stored
succeeded runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infrastructure import resources
from quantdesk import aws
from quantdesk.clock import now_iso
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import Run, RunManifest
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.results import ResultStore, summarise
from quantdesk.settings import get_settings
from quantdesk.watches.service import WatchService
from quantdesk.watches.settings import WatchSettings
from tests.unit.waiting_workflow import create_waiting_workflow

DELIVERIES = "quantdesk-alert-deliveries"


@pytest.fixture
def watch_env(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    role = create_waiting_workflow()
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{DELIVERIES}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = sqs.create_queue(
        QueueName=DELIVERIES,
        Attributes={
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": str(resources.ALERT_DELIVERY_ATTEMPTS),
                }
            )
        },
    )["QueueUrl"]
    key = aws.client("kms").create_key(Description="webhook secrets")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("QD_WATCH_SECRETS_KEY_ID", key)
    monkeypatch.setenv("QD_WATCH_DELIVERY_QUEUE_URL", queue)
    monkeypatch.setenv("QD_WATCH_SCHEDULER_ROLE_ARN", role)
    yield {"queue": queue, "dlq": dlq, "key": key}


@pytest.fixture
def watches(watch_env: dict[str, str]) -> WatchService:
    return WatchService(get_settings(), WatchSettings.from_env())


def result(rows: list[dict[str, Any]], scenario_id: str = "trend_strength") -> dict[str, Any]:
    """A scenario result as the worker stores it: rows in rank order, keyed by symbol."""
    return {
        "scenario_id": scenario_id,
        "as_of": "2026-11-27",
        "summary": f"{len(rows)} rows",
        "columns": [
            {"name": "symbol", "label": "Symbol", "kind": "text"},
            {"name": "score", "label": "Score", "kind": "number"},
        ],
        "rows": rows,
    }


def store_succeeded_run(
    owner: str,
    payload: dict[str, Any],
    *,
    scenario_id: str = "trend_strength",
    params: dict[str, Any] | None = None,
    watch_id: str | None = None,
) -> str:
    """A run as the workflow leaves it: succeeded, its result in S3."""
    settings = get_settings()
    repo = RunRepository(settings.table_name)
    run_id = new_run_id()
    now = now_iso()
    repo.create(
        Run(
            run_id=run_id,
            owner=owner,
            scenario_id=scenario_id,
            status="running",
            watch_id=watch_id,
            created_at=now,
            updated_at=now,
            event_seq=2,
            manifest=RunManifest(
                scenario_id=scenario_id,
                scenario_version="1",
                params=params or {"universe": "us_large_cap"},
                code_version="test",
            ),
        )
    )
    key = ResultStore(settings.results_bucket).put(run_id, json.dumps(payload).encode())
    repo.record_result(
        run_id, result_key=key, summary=summarise(payload), snapshots={}, timings={}, now=now
    )
    aws.client("dynamodb").update_item(
        TableName=settings.table_name,
        Key={"PK": {"S": f"RUN#{run_id}"}, "SK": {"S": "RUN"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "succeeded"}},
    )
    return run_id


def invoke(function: resources.Function, event: dict[str, Any]) -> Any:
    """Call a watch function's handler as Lambda would (loaded from its code dir, with a
    context)."""
    from infrastructure.local.cloud import ACCOUNT, REGION  # noqa: PLC0415
    from infrastructure.local.lambda_runtime import LambdaContext, load_handler  # noqa: PLC0415

    arn = resources.function_arn(function.name, REGION, ACCOUNT)
    context = LambdaContext(function.name, function.memory_mb, function.timeout_s, arn)
    return load_handler(function)(event, context)
