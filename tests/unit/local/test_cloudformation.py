"""The AWS template and the local cloud come from one definition; these tests fail on drift.

The local cloud's stack is named ``quantdesk`` (``resources.PREFIX``), so ``<stack>-<suffix>``
names in the template resolve to the local cloud's names."""

from __future__ import annotations

import json
import re
from typing import Any

from infrastructure import cloudformation, resources
from infrastructure.local.cloud import ACCOUNT, REGION, LocalCloud
from quantdesk import aws


def _resources_of(kind: str) -> dict[str, Any]:
    rendered = cloudformation.render()["Resources"]
    return {k: v["Properties"] for k, v in rendered.items() if v["Type"] == kind}


def test_local_cloud_deploys_what_the_template_declares(moto_aws: None) -> None:
    # Given the local cloud's deployment into a fresh (moto) account
    LocalCloud().deploy()
    # Then the table has the template's keys, index and stream
    table = aws.client("dynamodb").describe_table(TableName=resources.TABLE.name)["Table"]
    (cfn_table,) = _resources_of("AWS::DynamoDB::Table").values()
    assert table["KeySchema"] == cfn_table["KeySchema"]
    assert [g["KeySchema"] for g in table["GlobalSecondaryIndexes"]] == [
        g["KeySchema"] for g in cfn_table["GlobalSecondaryIndexes"]
    ]
    assert (
        table["StreamSpecification"]["StreamViewType"]
        == (cfn_table["StreamSpecification"]["StreamViewType"])
    )
    # And the data lake's working zones expire alike
    rules = aws.client("s3").get_bucket_lifecycle_configuration(Bucket=resources.DATA_BUCKET)
    cfn_rules = cloudformation.render()["Resources"]["DataBucket"]["Properties"]
    assert sorted(
        (r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules["Rules"]
    ) == sorted(
        (r["Prefix"], r["ExpirationInDays"]) for r in cfn_rules["LifecycleConfiguration"]["Rules"]
    )
    assert not any(
        r["Filter"]["Prefix"].startswith(("lake/", "snapshots/")) for r in rules["Rules"]
    )
    # And every state machine runs the template's definition, substitutions resolved alike
    sfn = aws.client("stepfunctions")
    deployed = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    for props in _resources_of("AWS::StepFunctions::StateMachine").values():
        name = _resolve(props["StateMachineName"])
        definition, substitutions = props["DefinitionString"]["Fn::Sub"]
        for placeholder, ref in substitutions.items():
            value = _resolve(ref)
            definition = definition.replace("${" + placeholder + "}", value)
        local = sfn.describe_state_machine(stateMachineArn=deployed[name])["definition"]
        assert json.loads(local) == json.loads(definition)
    # And every function the template declares exists with the same handler and memory
    functions = {f["FunctionName"]: f for f in aws.client("lambda").list_functions()["Functions"]}
    for props in _resources_of("AWS::Lambda::Function").values():
        if _resolve(props["FunctionName"]) in functions:
            local_fn = functions[_resolve(props["FunctionName"])]
            assert (local_fn["Handler"], local_fn["MemorySize"]) == (
                props["Handler"],
                props["MemorySize"],
            )
    declared = {
        _resolve(p["FunctionName"]) for p in _resources_of("AWS::Lambda::Function").values()
    }
    assert {f.name for f in resources.FUNCTIONS} <= declared


def _resolve(ref: dict[str, Any]) -> str:
    """CloudFormation refs -> the local cloud's physical names (stack ``quantdesk``)."""
    if "Fn::Sub" in ref:
        return (
            ref["Fn::Sub"]
            .replace("${AWS::StackName}", resources.PREFIX)
            .replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", REGION)
            .replace("${AWS::AccountId}", ACCOUNT)
        )
    if "Ref" in ref:
        target = ref["Ref"]
        if target == "RunsTable":
            return resources.TABLE.name
        if target.endswith("StateMachine"):
            machine = next(
                m
                for m in resources.STATE_MACHINES
                if cloudformation.logical_id(m.name) + "StateMachine" == target
            )
            return resources.state_machine_arn(machine.name, REGION, ACCOUNT)
        bucket = next(
            b for b in resources.BUCKETS if cloudformation.logical_id(b) + "Bucket" == target
        )
        return bucket
    logical, _ = ref["Fn::GetAtt"]
    function = next(
        f for f in resources.FUNCTIONS if cloudformation.logical_id(f.name) + "Function" == logical
    )
    return resources.function_arn(function.name, REGION, ACCOUNT)


def test_stream_mapping_filters_match_the_local_poller() -> None:
    (mapping,) = _resources_of("AWS::Lambda::EventSourceMapping").values()
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    (local,) = resources.STREAM_MAPPINGS
    assert patterns == list(local.filter_patterns)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_sse_function_streams_through_the_web_adapter() -> None:
    url = _resources_of("AWS::Lambda::Url")["StreamFunctionUrl"]
    assert url["InvokeMode"] == "RESPONSE_STREAM"
    env = _resources_of("AWS::Lambda::Function")["StreamFunction"]["Environment"]["Variables"]
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert re.search(r"LambdaAdapterLayer", json.dumps(_resources_of("AWS::Lambda::Function")))
