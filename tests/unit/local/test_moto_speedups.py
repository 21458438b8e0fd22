"""The local cloud's moto speed-ups change no answer: table-key Queries (conditions, order,
pages, filters), index Queries, and executions of a cached state machine program."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_dynamodb as dynamodb_task,
)

from infrastructure import resources
from infrastructure.local import moto_speedups
from quantdesk import aws, keys


def _put(run: str, seq: int, owner: str) -> dict[str, Any]:
    item = {
        keys.PK: {"S": f"RUN#{run}"},
        keys.SK: {"S": keys.event_sk(seq)},
        keys.GSI1PK: {"S": f"OWNER#{owner}"},
        keys.GSI1SK: {"S": f"{seq:04d}#{run}"},
        "seq": {"N": str(seq)},
    }
    aws.client("dynamodb").put_item(TableName=resources.TABLE.name, Item=item)
    return item


def _all_pages(**query: Any) -> list[dict[str, Any]]:
    items, start = [], None
    while True:
        page = aws.client("dynamodb").query(
            TableName=resources.TABLE.name,
            **query,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def test_queries_answer_as_moto_does(moto_aws: None) -> None:
    # Given items of several partitions, written out of order
    stored = [
        _put(run, seq, owner)
        for seq in (5, 1, 3, 2, 4)
        for run, owner in (("a", "x"), ("b", "y"), ("c", "x"))
    ]
    queries: list[dict[str, Any]] = [
        {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#b"}},
        },
        {
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": "RUN#a"},
                ":lo": {"S": keys.event_sk(2)},
                ":hi": {"S": keys.event_sk(4)},
            },
            "ScanIndexForward": False,
            "Limit": 2,
        },
        {
            "KeyConditionExpression": "PK = :pk",
            "FilterExpression": "seq > :n",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#c"}, ":n": {"N": "3"}},
            "Limit": 1,
        },
        {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "RUN#none"}},
        },
        {
            "IndexName": keys.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "OWNER#x"}},
            "ScanIndexForward": False,
            "Limit": 4,
        },
    ]
    # When each query runs with moto's own code, then with the speed-ups
    assert not moto_speedups.installed(), "this test must see moto's own answers first"
    before = [_all_pages(**q) for q in queries]
    moto_speedups.install()
    after = [_all_pages(**q) for q in queries]
    # Then every answer, order and page included, is the same
    assert after == before
    assert [int(i["seq"]["N"]) for i in after[0]] == [1, 2, 3, 4, 5]
    assert [int(i["seq"]["N"]) for i in after[1]] == [4, 3, 2]
    assert len(stored) == 15


def test_executions_of_a_cached_program_keep_their_own_state(moto_aws: None) -> None:
    moto_speedups.install()
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Pass",
                "Parameters": {"value.$": "States.MathAdd($.n, $.n)"},
                "End": True,
            }
        },
    }
    sfn = aws.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="double", definition=json.dumps(definition), roleArn=role["Arn"]
    )["stateMachineArn"]
    executions = [
        sfn.start_execution(stateMachineArn=arn, name=f"n{n}", input=json.dumps({"n": n}))[
            "executionArn"
        ]
        for n in range(4)
    ]
    outputs = []
    for execution in executions:
        deadline = time.monotonic() + 10
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        outputs.append(json.loads(described["output"])["value"])
    assert outputs == [0, 2, 4, 6]


def _counter_transaction(limit: int) -> list[dict[str, Any]]:
    """Count one start on a counter item and mark a second item, both conditionally, as the
    API's per-user limits do."""
    table = resources.TABLE.name
    return [
        {
            "Update": {
                "TableName": table,
                "Key": {keys.PK: {"S": "LIMIT#x"}, keys.SK: {"S": "COUNT"}},
                "UpdateExpression": "ADD n :one",
                "ConditionExpression": "attribute_not_exists(n) OR n < :max",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": str(limit)}},
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": {keys.PK: {"S": "LIMIT#x"}, keys.SK: {"S": "SEEN"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]


def _n(sk: str) -> int:
    item = aws.client("dynamodb").get_item(
        TableName=resources.TABLE.name, Key={keys.PK: {"S": "LIMIT#x"}, keys.SK: {"S": sk}}
    )["Item"]
    return int(item["n"]["N"])


def test_transactions_stay_atomic_and_lose_no_concurrent_write(moto_aws: None) -> None:
    moto_speedups.install()
    db = aws.client("dynamodb")
    # Given transactions racing each other and plain writes to other items
    outcomes: list[str] = []

    def start() -> None:
        try:
            db.transact_write_items(TransactItems=_counter_transaction(limit=15))
            outcomes.append("ok")
        except db.exceptions.TransactionCanceledException as exc:
            outcomes.append(exc.response["CancellationReasons"][0]["Code"])

    def write(index: int) -> None:
        _put(f"w{index}", 1, "z")

    threads = [threading.Thread(target=start) for _ in range(20)]
    threads += [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly the allowed starts went through, each whole, the refused ones changed
    # nothing, and no plain write was rolled back with them
    assert sorted(outcomes) == ["ConditionalCheckFailed"] * 5 + ["ok"] * 15
    assert (_n("COUNT"), _n("SEEN")) == (15, 15)
    owners = _all_pages(
        IndexName=keys.GSI1,
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "OWNER#z"}},
    )
    assert len(owners) == 20


def test_a_parsed_expression_is_reused_only_with_the_same_values(moto_aws: None) -> None:
    moto_speedups.install()
    db = aws.client("dynamodb")
    # Given the same conditional update sent with different values and attribute names
    for _ in range(3):
        db.transact_write_items(TransactItems=_counter_transaction(limit=100))
    refused = []
    for limit in (2, 3, 4, 100):
        try:
            db.transact_write_items(TransactItems=_counter_transaction(limit=limit))
        except db.exceptions.TransactionCanceledException:
            refused.append(limit)
    db.update_item(
        TableName=resources.TABLE.name,
        Key={keys.PK: {"S": "LIMIT#x"}, keys.SK: {"S": "SEEN"}},
        UpdateExpression="SET #n = :n",
        ConditionExpression="#n > :n",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    # Then each was judged on its own values: n was 3, 4 after the limit of 4, then 5
    assert refused == [2, 3]
    assert (_n("COUNT"), _n("SEEN")) == (5, 1)


def test_the_interpreter_shares_one_client_per_service(moto_aws: None) -> None:
    moto_speedups.install()
    first = lambda_eval_utils.boto_client_for("us-east-1", "lambda", object())
    assert lambda_eval_utils.boto_client_for("us-east-1", "lambda", object()) is first
    assert dynamodb_task.boto_client_for("us-east-1", "dynamodb", None) is not first
    assert first.meta.config.max_pool_connections >= 32
