"""The projector's on-failure destination: list what it could not project, and redrive it.

Lambda's event-source mapping sends a *description* of the skipped stream records to the SQS
queue (``DDBStreamBatchInfo``: stream, shard, first and last sequence number), not the records:
they stay in the stream (24 hours on AWS). A redrive reads that range back from the stream and
invokes the projector with it, as the mapping would; a message is deleted only once its
records were projected, so a record that still fails stays listed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from quantdesk import aws

#: SQS answers at most 10 messages a call
_PAGE = 10


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt: str
    condition: str
    attempts: int
    stream_arn: str
    shard_id: str
    first: str
    last: str
    size: int
    arrived: str

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> DeadLetter:
        body = json.loads(message["Body"])
        info, context = body["DDBStreamBatchInfo"], body.get("requestContext", {})
        return cls(
            message_id=message["MessageId"],
            receipt=message["ReceiptHandle"],
            condition=str(context.get("condition", "")),
            attempts=int(context.get("approximateInvokeCount", 0)),
            stream_arn=info["streamArn"],
            shard_id=info["shardId"],
            first=info["startSequenceNumber"],
            last=info["endSequenceNumber"],
            size=int(info["batchSize"]),
            arrived=info.get("approximateArrivalOfFirstRecord", ""),
        )


@dataclass(frozen=True)
class Redriven:
    letter: DeadLetter
    ok: bool
    detail: str


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as Lambda delivers it: ``eventSourceARN`` added, creation time in epoch
    seconds."""
    converted = dict(record)
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    converted["dynamodb"] = dynamodb
    converted["eventSourceARN"] = stream_arn
    return converted


class DeadLetters:
    def __init__(self, queue_name: str, function_name: str) -> None:
        self.queue_name = queue_name
        self.function_name = function_name

    @property
    def _queue_url(self) -> str:
        return str(aws.client("sqs").get_queue_url(QueueName=self.queue_name)["QueueUrl"])

    def pending(self, limit: int = 100) -> list[DeadLetter]:
        """Every message (up to ``limit``), left on the queue and visible."""
        return self._receive(limit, visibility_s=0)

    def _receive(self, limit: int, visibility_s: int) -> list[DeadLetter]:
        sqs, url = aws.client("sqs"), self._queue_url
        seen: dict[str, DeadLetter] = {}
        while len(seen) < limit:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(_PAGE, limit - len(seen)),
                VisibilityTimeout=visibility_s,
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:
                break
            seen |= {m["MessageId"]: DeadLetter.from_message(m) for m in fresh}
        return list(seen.values())

    def redrive(self, limit: int = 100) -> list[Redriven]:
        """Replay each listed range through the projector; delete the messages that worked."""
        sqs, url = aws.client("sqs"), self._queue_url
        outcomes = []
        for letter in self._receive(limit, visibility_s=60):
            ok, detail = self._replay(letter)
            if ok:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt)
            else:  # visible again at once, for the next list or redrive
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=letter.receipt, VisibilityTimeout=0
                )
            outcomes.append(Redriven(letter, ok, detail))
        return outcomes

    def _replay(self, letter: DeadLetter) -> tuple[bool, str]:
        records = self._records(letter)
        if not records:
            return False, "the records are no longer in the stream"
        response = aws.client("lambda").invoke(
            FunctionName=self.function_name,
            Payload=json.dumps({"Records": records}, default=str).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            return False, str(payload.get("errorMessage") if isinstance(payload, dict) else payload)
        failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
        if failures:
            return False, f"{len(failures)} record(s) failed again"
        return True, f"{len(records)} record(s) projected"

    def _records(self, letter: DeadLetter) -> list[dict[str, Any]]:
        streams = aws.client("dynamodbstreams")
        iterator = streams.get_shard_iterator(
            StreamArn=letter.stream_arn,
            ShardId=letter.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=letter.first,
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator, Limit=letter.size)["Records"]
        last = int(letter.last)
        return [
            lambda_record(r, letter.stream_arn)
            for r in records
            if int(r["dynamodb"]["SequenceNumber"]) <= last
        ]
