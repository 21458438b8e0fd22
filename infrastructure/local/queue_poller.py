"""SQS event-source mappings for the local cloud, polled as Lambda polls them.

moto 5.2.5 delivers an SQS mapping's messages only inside ``SendMessage`` (synchronously, in
the sender's request), deletes the whole batch whenever the function returns, and never looks
at the queue again, so a message whose delivery failed is neither retried nor dead-lettered.
Here each mapping's copy in the endpoint is disabled (:func:`stream_poller.neutralise`) and a
poller thread per mapping does what Lambda's SQS poller does: receive a batch (with the
message attributes, ``ApproximateReceiveCount`` among them), invoke the function with the event
Lambda sends, delete the messages it did not report in ``batchItemFailures`` (all of them kept
on a function error). Kept messages come back when their visibility timeout ends, and the
queue's redrive policy moves them to its dead-letter queue after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

log = logging.getLogger("quantdesk.local.queues")

#: how often an idle queue is polled (Lambda long-polls; a short poll keeps stop() quick)
POLL_S = 0.5


@dataclass(frozen=True)
class QueueMapping:
    logical: str
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int


def queue_mappings_from_stack(stack: DeployedStack) -> tuple[QueueMapping, ...]:
    """The template's SQS event-source mappings (``function``: the target's physical name)."""
    mappings = []
    for logical, props in stack.resources_of("AWS::Lambda::EventSourceMapping").items():
        source = props["EventSourceArn"]
        if "Fn::GetAtt" not in source:
            continue
        queue = source["Fn::GetAtt"][0]
        if stack.template["Resources"][queue]["Type"] != "AWS::SQS::Queue":
            continue
        function = str(stack.resolve(props["FunctionName"]))
        mappings.append(
            QueueMapping(
                logical=logical,
                function=function.rsplit(":", 1)[-1],
                queue_url=str(stack.resolve({"Ref": queue})),
                queue_arn=str(stack.resolve(source)),
                batch_size=int(props.get("BatchSize", 10)),
            )
        )
    return tuple(mappings)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS poller sends for received ``messages``."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class QueuePoller:
    def __init__(self, mapping: QueueMapping, region: str, sqs: Any, lambda_client: Any) -> None:
        self.mapping = mapping
        self.region = region
        self._sqs = sqs
        self._lambda = lambda_client
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"queue-{mapping.function}", daemon=True
        )
        #: messages deleted after a successful delivery (tests, diagnostics)
        self.delivered = 0

    def start(self) -> QueuePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:  # the endpoint is going down, or a transient error: poll again
                log.exception("polling %s failed", self.mapping.queue_url)
                busy = False
            if not busy:
                self._stop.wait(POLL_S)

    def poll_once(self) -> bool:
        """Deliver one batch; False when the queue had nothing visible."""
        received = self._sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return False
        response = self._lambda.invoke(
            FunctionName=self.mapping.function,
            Payload=json.dumps(sqs_event(messages, self.mapping.queue_arn, self.region)).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            log.warning("queue batch failed: %s", payload)
            return True
        failures = payload.get("batchItemFailures") or [] if isinstance(payload, dict) else []
        kept = {str(f.get("itemIdentifier")) for f in failures}
        for message in messages:
            if message["MessageId"] not in kept:
                self._sqs.delete_message(
                    QueueUrl=self.mapping.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                self.delivered += 1
        return True


def start_queue_pollers(stack: DeployedStack, region: str) -> list[QueuePoller]:
    """Disable the endpoint's delivery of each SQS mapping and poll it here instead."""
    from infrastructure.local.stream_poller import neutralise  # noqa: PLC0415 - moto patches
    from quantdesk import aws  # noqa: PLC0415 - after the endpoint is configured

    lambda_client = aws.client("lambda")
    pollers = []
    for mapping in queue_mappings_from_stack(stack):
        neutralise(lambda_client, stack.physical[mapping.logical])
        poller = QueuePoller(mapping, region, aws.client("sqs"), lambda_client)
        pollers.append(poller.start())
    return pollers
