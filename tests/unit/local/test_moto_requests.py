"""The local cloud's per-request moto speed-ups change no answer: DynamoDB reads of every
attribute type (pages, projections, counts, consumed capacity, missing items), requests after
moto's reset, and an unknown action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import serialize
from moto.core.base_backend import BackendDict

from infrastructure import resources
from infrastructure.local import moto_requests
from quantdesk import aws

TABLE = resources.TABLE.name
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"


@pytest.fixture
def moto_own_first(moto_aws: None) -> Iterator[None]:
    was = moto_requests.installed()
    moto_requests.uninstall()
    yield
    (moto_requests.install if was else moto_requests.uninstall)()


def _store() -> None:
    items = [
        {"PK": {"S": "RUN#a"}, "SK": {"S": "RUN"}, "status": {"S": "running"}},
        {
            "PK": {"S": "RUN#a"},
            "SK": {"S": "EVT#0001"},
            "seq": {"N": "1"},
            "ok": {"BOOL": True},
            "none": {"NULL": True},
            "tags": {"SS": ["x", "y"]},
            "sizes": {"NS": ["1", "2.5"]},
            "data": {"M": {"l": {"L": [{"S": "é ✓"}, {"N": "-3"}]}, "e": {"M": {}}}},
        },
        {"PK": {"S": "RUN#a"}, "SK": {"S": "EVT#0002"}, "blob": {"B": b"\x00\xffbin"}},
        {"PK": {"S": "RUN#b"}, "SK": {"S": "RUN"}, "bins": {"BS": [b"a", b"b"]}},
    ]
    for item in items:
        aws.client("dynamodb").put_item(TableName=TABLE, Item=item)


def _reads() -> list[Any]:
    db = aws.client("dynamodb")
    answers: list[Any] = []
    for query in (
        {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#a"}},
        },
        {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :e)",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#a"}, ":e": {"S": "EVT#"}},
            "Limit": 1,
            "ReturnConsumedCapacity": "TOTAL",
        },
        {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#a"}},
            "ProjectionExpression": "SK, #d.l",
            "ExpressionAttributeNames": {"#d": "data"},
        },
        {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#a"}},
            "Select": "COUNT",
        },
        {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "no"}}},
    ):
        answers.append(db.query(TableName=TABLE, **query))
    for key in (
        {"PK": {"S": "RUN#a"}, "SK": {"S": "EVT#0001"}},
        {"PK": {"S": "no"}, "SK": {"S": "RUN"}},
    ):
        answers.append(db.get_item(TableName=TABLE, Key=key, ConsistentRead=True))
    answers.append(
        db.batch_get_item(
            RequestItems={
                TABLE: {
                    "Keys": [
                        {"PK": {"S": "RUN#a"}, "SK": {"S": "RUN"}},
                        {"PK": {"S": "RUN#b"}, "SK": {"S": "RUN"}},
                        {"PK": {"S": "no"}, "SK": {"S": "RUN"}},
                    ],
                    "ProjectionExpression": "PK, #s",
                    "ExpressionAttributeNames": {"#s": "status"},
                }
            }
        )
    )
    with pytest.raises(ClientError) as missing:
        db.query(
            TableName="no-such-table",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "x"}},
        )
    answers.append(missing.value.response["Error"])
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def _counting_serializations(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    calls = []
    original = serialize.ResponseSerializer.serialize

    def counted(self: Any, result: Any) -> Any:
        operation = self.operation_model
        calls.append((operation.service_model.service_name, operation.name))
        return original(self, result)

    monkeypatch.setattr(serialize.ResponseSerializer, "serialize", counted)
    return lambda: sum(1 for call in calls if call in moto_requests.DIRECT)


def test_dynamodb_reads_answer_as_moto_does(
    moto_own_first: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given items of every attribute type
    _store()
    serializations = _counting_serializations(monkeypatch)
    # When the same reads run with moto's own serializer, then with the direct one
    before = _reads()
    by_moto = serializations()
    assert by_moto == 8  # every read but the error
    moto_requests.install()
    after = _reads()
    # Then every answer is the same, and only the read of a binary attribute took moto's way:
    # the others were written directly
    assert after == before
    assert serializations() - by_moto == 1
    assert before[0]["Count"] == 3 and before[3]["Count"] == 3 and before[4]["Items"] == []


def _stream_records() -> list[dict[str, Any]]:
    arn = aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    # the regional endpoint: moto's in-process mock does not match the account-based one
    streams = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator)["Records"]
    return records


def test_stream_records_answer_as_moto_does(
    moto_own_first: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given writes of every attribute type but binary (inserts, an update, a delete)
    db = aws.client("dynamodb")
    item = {"PK": {"S": "RUN#a"}, "SK": {"S": "RUN"}, "n": {"N": "1"}, "m": {"M": {}}}
    db.put_item(TableName=TABLE, Item=item | {"ok": {"BOOL": False}, "none": {"NULL": True}})
    db.put_item(TableName=TABLE, Item=item | {"l": {"L": [{"SS": ["x"]}, {"NS": ["2"]}]}})
    db.delete_item(TableName=TABLE, Key={"PK": item["PK"], "SK": item["SK"]})
    serializations = _counting_serializations(monkeypatch)
    # When the stream is read with moto's serializer, then with the direct one
    before = _stream_records()
    moto_requests.install()
    after = _stream_records()
    # Then the records (dates, images, keys) are the same, and the second read was direct
    assert after == before
    assert [r["eventName"] for r in after] == ["INSERT", "MODIFY", "REMOVE"]
    assert "ApproximateCreationDateTime" in after[0]["dynamodb"]
    assert serializations() == 1


def test_requests_after_moto_reset_find_their_backends(moto_own_first: None) -> None:
    moto_requests.install()
    _store()
    BackendDict.reset()  # what the end of a mock does: every registry is emptied
    db = aws.client("dynamodb")
    db.create_table(**resources.TABLE.create_kwargs())
    _store()
    assert (
        db.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "RUN#a"}},
        )["Count"]
        == 3
    )
    # the registry registered again, so the next reset empties it
    assert any(registry.service_name == "dynamodb" for registry in BackendDict._instances)  # type: ignore[misc]


def test_an_unknown_action_is_still_refused(moto_own_first: None) -> None:
    moto_requests.install()
    with pytest.raises(ClientError) as refused:
        aws.client("dynamodb").describe_table(TableName="absent")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert aws.client("dynamodb").list_tables()["TableNames"] == [TABLE]
