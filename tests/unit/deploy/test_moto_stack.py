"""Smoke check: moto's CloudFormation creates the packaged template (less the resource types
it does not implement, listed in the README) and wires names, environment and ASL alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from infrastructure import cloudformation, package, resources
from quantdesk import aws
from tests.unit.deploy.moto_subset import creatable, dumps, upload_code

STACK = "quantdesk-smoke"


@pytest.fixture
def moto_cfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with its default Step Functions backend: moto 5.2.5's CloudFormation
    creates state machines there, where the executing backend (``execute_state_machine``)
    does not see them."""
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    aws.reset()
    with mock_aws():
        yield
    aws.reset()


def test_moto_creates_the_stack_it_can_and_names_derive_from_it(
    moto_cfn: None, tmp_path: Path
) -> None:
    package.build_functions(tmp_path)
    template, dropped = creatable(json.loads(cloudformation.rendered_text()))
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    upload_code(template, tmp_path, s3, "artifacts")
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=dumps(template), Capabilities=["CAPABILITY_IAM"])

    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # only the resource types moto lacks (and what hangs off them) were left out
    kinds = {json.loads(cloudformation.rendered_text())["Resources"][d]["Type"] for d in dropped}
    assert "AWS::Lambda::Function" not in kinds and "AWS::StepFunctions::StateMachine" not in kinds
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    lambda_client = aws.client("lambda")
    for function in cloudformation.all_functions():
        name = outputs[f"{cloudformation.function_id(function)}Name"]
        assert name == f"{STACK}-{function.suffix}"
        config = lambda_client.get_function(FunctionName=name)["Configuration"]
        env = config["Environment"]["Variables"]
        assert env["QD_TABLE_NAME"] == outputs["TableName"]
        assert env["QD_SCENARIO_RUN_ARN"] == outputs["ScenarioRunStateMachineArn"]
        assert (config["Handler"], config["MemorySize"]) == (function.handler, function.memory_mb)
    # the state machines invoke this stack's functions
    sfn = aws.client("stepfunctions")
    definition = sfn.describe_state_machine(stateMachineArn=outputs["ScenarioRunStateMachineArn"])[
        "definition"
    ]
    assert f"function:{STACK}-{resources.WORKER.suffix}" in definition
    assert outputs["TableName"] in definition
    assert "${" not in definition
    # the stream mapping reads this stack's table stream
    (mapping,) = lambda_client.list_event_source_mappings(
        FunctionName=outputs["ProjectorFunctionName"]
    )["EventSourceMappings"]
    table = aws.client("dynamodb").describe_table(TableName=outputs["TableName"])["Table"]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
