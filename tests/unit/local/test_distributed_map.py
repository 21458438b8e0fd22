"""The local emulation of Distributed Map features moto's interpreter lacks (the end-to-end
behaviour is covered by the scenario-run and ingestion state machine tests)."""

from __future__ import annotations

import json

from infrastructure import resources
from infrastructure.local.distributed_map import batch_input, batches, exceeds_tolerance, prepared


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
