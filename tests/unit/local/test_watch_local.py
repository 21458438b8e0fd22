"""The local cloud's emulation of what watches need from AWS: SQS event-source mappings polled
as Lambda polls them, and the schedules the API creates fired as Scheduler fires them."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from infrastructure.local.api_schedules import ApiSchedules
from infrastructure.local.queue_poller import QueueMapping, QueuePoller
from quantdesk import aws


class FakeLambda:
    """Answers each invoke with ``answer(event)``; keeps the events."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        event = json.loads(Payload)
        self.events.append(event)
        return {"Payload": io.BytesIO(json.dumps(self.answer(event)).encode())}


def test_the_queue_poller_deletes_delivered_messages_and_keeps_reported_failures(
    moto_aws: None,
) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))

    def fail_odd(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] % 2]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    fake = FakeLambda(fail_odd)
    poller = QueuePoller(
        QueueMapping("M", "f", url, "arn:aws:sqs:us-east-1:1:q", 10), "us-east-1", sqs, fake
    )
    assert poller.poll_once()
    # Lambda's SQS event shape, with the receive count the function backs off by
    record = fake.events[0]["Records"][0]
    assert (
        record["eventSource"] == "aws:sqs"
        and record["attributes"]["ApproximateReceiveCount"] == "1"
    )
    assert poller.delivered == 2
    # the failed message stays on the queue and comes back
    assert poller.poll_once()
    assert [json.loads(r["body"])["n"] for r in fake.events[1]["Records"]] == [1]
    assert fake.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_api_schedules_fire_when_due_in_their_zone_with_the_scheduled_time(moto_aws: None) -> None:
    scheduler = aws.client("scheduler")
    target = {
        "Arn": "arn:aws:lambda:us-east-1:123456789012:function:quantdesk-watch-fire",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "Input": json.dumps({"watch_id": "w", "scheduled_time": "<aws.scheduler.scheduled-time>"}),
    }
    scheduler.create_schedule(
        Name="quantdesk-watch-w",
        ScheduleExpression="cron(0 18 ? * MON-FRI *)",
        ScheduleExpressionTimezone="America/New_York",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    scheduler.create_schedule(
        Name="other",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    invoked: list[tuple[str, dict[str, Any]]] = []
    schedules = ApiSchedules(
        scheduler, lambda f, p: invoked.append((f, json.loads(p))), "quantdesk-watch-"
    )
    friday = dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC)  # 17:00 in New York
    schedules.tick(friday)
    schedules.tick(friday + dt.timedelta(minutes=59))
    assert invoked == []
    schedules.tick(friday + dt.timedelta(hours=1, seconds=3))
    assert invoked == [
        ("quantdesk-watch-fire", {"watch_id": "w", "scheduled_time": "2026-11-27T23:00:00Z"})
    ]
    # disabled: no more firings
    scheduler.update_schedule(
        Name="quantdesk-watch-w",
        ScheduleExpression="cron(0 18 ? * MON-FRI *)",
        ScheduleExpressionTimezone="America/New_York",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        State="DISABLED",
    )
    schedules.tick(friday + dt.timedelta(days=3, hours=1, seconds=3))
    assert len(invoked) == 1
