"""Alert deliveries: signed webhooks to real local HTTP receivers, retries with backoff, the
dead-letter queue, e-mail through SNS; a failing receiver never holds up another."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infrastructure.local import queue_poller
from infrastructure.resources import ALERT_DELIVERY_ATTEMPTS, WATCH_DELIVER
from quantdesk import aws
from quantdesk.watches.alerts import retry_delay_s
from quantdesk.watches.models import Channel, Trigger, WatchRequest
from quantdesk.watches.service import WatchService
from tests.unit.watches.conftest import invoke, result, store_succeeded_run

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:quantdesk-alert-deliveries"


class Receiver:
    """A webhook receiver on 127.0.0.1 answering ``status``; keeps what it received."""

    def __init__(self, status: int) -> None:
        self.received: list[tuple[bytes, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((body, self.headers.get("X-Quantdesk-Signature", "")))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    good, broken = Receiver(204), Receiver(500)
    yield good, broken
    good.close()
    broken.close()


def receive(queue: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs").receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return messages.get("Messages", [])


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS mapping sends for received ``messages``."""
    return queue_poller.sqs_event(messages, QUEUE_ARN, "us-east-1")


def test_webhooks_are_signed_retried_then_dead_lettered_without_blocking_others(
    watches: WatchService, watch_env: dict[str, str], receivers: tuple[Receiver, Receiver]
) -> None:
    good, broken = receivers
    # Given a watch alerting a broken receiver, a working one and an e-mail address
    source = store_succeeded_run("alice", result([{"symbol": "AAPL", "score": 1.0}]))
    created = watches.create(
        WatchRequest(
            run_id=source,
            trigger=Trigger(on="snapshot"),
            channels=[
                Channel(type="webhook", url=broken.url),
                Channel(type="webhook", url=good.url),
                Channel(type="email", address="alice@example.com"),
            ],
        ),
        "alice",
    )
    # When a firing's result changed
    fired = store_succeeded_run(
        "alice", result([{"symbol": "MSFT", "score": 1.0}]), watch_id=created.watch_id
    )
    alert = watches.evaluate(fired)
    assert alert is not None
    # And the delivery function gets the queued deliveries
    messages = receive(watch_env["queue"])
    assert len(messages) == 2
    response = invoke(WATCH_DELIVER, sqs_event(messages))
    # Then the working receiver got the alert, signed with the watch's secret
    ((raw, signature),) = good.received
    expected = hmac.new(created.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    body = json.loads(raw)
    assert (body["watch_id"], body["run_id"], body["previous_run_id"]) == (
        created.watch_id,
        fired,
        source,
    )
    assert (body["diff"]["entries"], body["diff"]["exits"]) == (["MSFT"], ["AAPL"])
    # ...and only the broken receiver's message is reported for a retry
    broken_message = next(m for m in messages if json.loads(m["Body"])["delivery"] == 0)
    assert response == {"batchItemFailures": [{"itemIdentifier": broken_message["MessageId"]}]}
    # ...after a backoff delay: it is not visible yet
    assert receive(watch_env["queue"]) == []
    # The alert shows each channel's outcome; the e-mail went out through SNS
    (stored,) = watches.alerts("alice", 10, unread_only=False).alerts
    assert [(d.type, d.status) for d in stored.deliveries] == [
        ("webhook", "failed"),
        ("webhook", "sent"),
        ("email", "sent"),
    ]
    assert stored.deliveries[0].message and "500" in stored.deliveries[0].message
    assert stored.deliveries[2].message and "MSFT" in stored.deliveries[2].message
    # When every retry fails too (each delay passed at once here)
    sqs = aws.client("sqs")
    for attempt in range(2, ALERT_DELIVERY_ATTEMPTS + 1):
        sqs.change_message_visibility(
            QueueUrl=watch_env["queue"],
            ReceiptHandle=broken_message["ReceiptHandle"],
            VisibilityTimeout=0,
        )
        (broken_message,) = receive(watch_env["queue"])
        assert broken_message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        invoke(WATCH_DELIVER, sqs_event([broken_message]))
    sqs.change_message_visibility(
        QueueUrl=watch_env["queue"],
        ReceiptHandle=broken_message["ReceiptHandle"],
        VisibilityTimeout=0,
    )
    # Then the message moves to the dead-letter queue; the working receiver got it once
    assert receive(watch_env["queue"]) == []
    (dead,) = receive(watch_env["dlq"])
    assert json.loads(dead["Body"])["alert_id"] == alert.alert_id
    assert len(broken.received) == ALERT_DELIVERY_ATTEMPTS
    assert len(good.received) == 1


def test_retry_delays_grow_exponentially_to_a_cap() -> None:
    delays = [retry_delay_s(attempt) for attempt in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 900, 900]
