"""The local emulation of Distributed Map features moto's interpreter lacks (the end-to-end
behaviour is covered by the scenario-run and ingestion state machine tests)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT
from infrastructure.local.distributed_map import batch_input, batches, exceeds_tolerance, prepared
from quantdesk import aws


def test_tolerance_is_exceeded_only_past_the_given_share_or_count() -> None:
    # ToleratedFailurePercentage 0 (and no count): any failure fails the map
    assert exceeds_tolerance(1, 12, 0, 0.0)
    assert not exceeds_tolerance(0, 12, 0, 0.0)
    # 10%: one of twenty is tolerated, three of twenty are not
    assert not exceeds_tolerance(1, 20, 0, 10.0)
    assert exceeds_tolerance(3, 20, 0, 10.0)
    # a count of two tolerates two failures
    assert not exceeds_tolerance(2, 20, 2, 0.0)
    assert exceeds_tolerance(3, 20, 2, 0.0)


def test_batches_have_aws_shape_with_the_batch_input_resolved() -> None:
    items = [{"Key": f"k{i}"} for i in range(5)]
    template = {"run_id.$": "$.run_id", "fixed": 1}
    resolved = batch_input(template, {"run_id": "r1"}, lambda path, data: data[path[2:]])
    out = batches(items, {"MaxItemsPerBatch": 2}, resolved)
    assert [len(b["Items"]) for b in out] == [2, 2, 1]
    assert out[0]["BatchInput"] == {"run_id": "r1", "fixed": 1}
    assert batches(items, {"MaxItemsPerBatch": 5}, None) == [{"Items": items}]


def test_the_ingestion_definition_is_prepared_for_the_local_parser() -> None:
    text = resources.render_definition(resources.INGESTION, "us-east-1", "000000000000")
    parsed, found = prepared(text)
    assert found["ReadFiles"]["MaxItemsPerBatch"] == 100
    read_files = json.loads(parsed)["States"]["ReadFiles"]
    assert "ItemBatcher" not in read_files
    assert read_files["ToleratedFailurePercentage"] == 10.0
    assert read_files["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    # a definition without any of it is left as it is
    plain = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert prepared(plain) == (plain, {})


def _execute(definition: dict[str, Any], state_input: dict[str, Any]) -> dict[str, Any]:
    """Run ``definition`` to its end in moto's interpreter; the execution as described."""
    sfn = aws.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"m-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(state_input))
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.05)
    result: dict[str, Any] = described
    return result


def test_the_item_reader_lists_every_page_of_the_prefix(moto_aws: None) -> None:
    # Given more objects under the prefix than one ListObjectsV2 page holds (1,000), and others
    bucket = resources.BUCKETS[0]
    s3 = aws.client("s3")
    for i in range(1_205):
        s3.put_object(Bucket=bucket, Key=f"landing/many/{i:05d}.csv", Body=b"x")
    s3.put_object(Bucket=bucket, Key="landing/other/a.csv", Body=b"x")
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"},
                },
                "ItemBatcher": {"MaxItemsPerBatch": 500},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Keys",
                    "States": {"Keys": {"Type": "Pass", "OutputPath": "$.Items", "End": True}},
                },
                "End": True,
            }
        },
    }
    # When a Distributed Map reads the prefix in batches of 500
    described = _execute(definition, {"prefix": "landing/many/"})
    # Then every object under it was an item, once, in three batches
    assert described["status"] == "SUCCEEDED", described
    batches = json.loads(described["output"])
    assert [len(b) for b in batches] == [500, 500, 205]
    keys = [item["Key"] for batch in batches for item in batch]
    assert keys == [f"landing/many/{i:05d}.csv" for i in range(1_205)]
    # and an empty prefix gives no items
    described = _execute(definition, {"prefix": "landing/none/"})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == []


def test_an_iteration_failing_with_a_states_error_fails_the_map_with_it(moto_aws: None) -> None:
    # Given an inline map whose iteration ends with States.Runtime (a path its input lacks)
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "Iterator": {
                    "StartAt": "Pick",
                    "States": {"Pick": {"Type": "Pass", "InputPath": "$.missing", "End": True}},
                },
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    # When it runs
    described = _execute(definition, {"items": [{"present": 1}]})
    # Then the map fails with the iteration's own error, which its Catch sees
    assert described["status"] == "SUCCEEDED", described
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "States.Runtime"
    assert "$.missing" in error["Cause"]
    assert "Custom Error Names" not in error["Cause"]
