"""The AWS template's resources, rendered from ``infrastructure.resources``.

``python -m infrastructure.template`` writes ``infrastructure/template/resources.json``, the
CloudFormation fragment merged into Chalice's packaged API template
(``chalice package --merge-template``): the table and its stream, the buckets, the worker and
projector functions, the stream event-source mapping with its filter criteria, the SSE function
behind a streaming Function URL, the state machines (the same ASL files, with
DefinitionSubstitutions) and the schedules. The local cloud deploys from the same objects, and
a test fails when the committed file drifts from what this module renders.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Final

from infrastructure import resources
from infrastructure.resources import Function, StateMachine

OUTPUT: Final = Path(__file__).resolve().parent / "template" / "resources.json"
RUNTIME: Final = "python3.12"
#: AWS Lambda Web Adapter layer (x86_64), the supported way to stream responses from Python
LWA_LAYER: Final = "arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:24"


def logical_id(name: str) -> str:
    """``quantdesk-scenario-run`` -> ``ScenarioRun`` (CloudFormation logical ids)."""
    stem = name.removeprefix(f"{resources.PREFIX}-")
    return "".join(part.capitalize() for part in re.split(r"[-_]", stem))


def _environment() -> dict[str, Any]:
    env: dict[str, Any] = {
        "QD_TABLE_NAME": {"Ref": "RunsTable"},
        "QD_DATA_BUCKET": {"Ref": "DataBucket"},
        "QD_RESULTS_BUCKET": {"Ref": "ResultsBucket"},
        "POWERTOOLS_SERVICE_NAME": resources.PREFIX,
        "QD_STREAM_SECRET": {"Ref": "StreamSecret"},
    }
    for machine in resources.STATE_MACHINES:
        key = "QD_" + machine.name.removeprefix(f"{resources.PREFIX}-").replace("-", "_").upper()
        env[f"{key}_ARN"] = {"Ref": f"{logical_id(machine.name)}StateMachine"}
    return env


def _table() -> dict[str, Any]:
    spec = resources.TABLE.create_kwargs()
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "Properties": {
            "BillingMode": spec["BillingMode"],
            "AttributeDefinitions": spec["AttributeDefinitions"],
            "KeySchema": spec["KeySchema"],
            "GlobalSecondaryIndexes": spec["GlobalSecondaryIndexes"],
            "StreamSpecification": {
                "StreamViewType": spec["StreamSpecification"]["StreamViewType"]
            },
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    }


def _bucket(lifecycle: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    bucket: dict[str, Any] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    }
    if lifecycle:
        bucket["Properties"]["LifecycleConfiguration"] = {
            "Rules": [
                {
                    "Id": rule["ID"],
                    "Prefix": rule["Filter"]["Prefix"],
                    "Status": rule["Status"],
                    "ExpirationInDays": rule["Expiration"]["Days"],
                }
                for rule in lifecycle
            ]
        }
    return bucket


def _function(function: Function) -> dict[str, Any]:
    layers: list[Any] = [{"Ref": "CoreLayer"}]
    layers += [{"Ref": f"{layer.capitalize()}Layer"} for layer in function.layers]
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": function.name,
            "Runtime": RUNTIME,
            "Handler": function.handler,
            "Code": f"build/functions/{function.name}.zip",
            "MemorySize": function.memory_mb,
            "Timeout": function.timeout_s,
            "Layers": layers,
            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
            "Environment": {"Variables": _environment()},
        },
    }


def _state_machine(machine: StateMachine) -> dict[str, Any]:
    substitutions: dict[str, Any] = {}
    for placeholder, target in machine.substitutions.items():
        kind, _, name = target.partition(":")
        if kind == "table":
            substitutions[placeholder] = {"Ref": "RunsTable"}
        elif kind == "function":
            substitutions[placeholder] = {"Fn::GetAtt": [f"{logical_id(name)}Function", "Arn"]}
        elif kind == "bucket":
            substitutions[placeholder] = {"Ref": f"{logical_id(name)}Bucket"}
        elif kind == "statemachine":
            substitutions[placeholder] = {"Ref": f"{logical_id(name)}StateMachine"}
    return {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": machine.name,
            "StateMachineType": "STANDARD",
            "DefinitionString": json.dumps(machine.definition(), indent=1),
            "DefinitionSubstitutions": substitutions,
            "RoleArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]},
        },
    }


def render() -> dict[str, Any]:
    out: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "quantdesk resources (generated by infrastructure/template.py; do not edit)",
        "Parameters": {
            "StreamSecret": {"Type": "String", "NoEcho": True, "MinLength": 32},
        },
        "Resources": {
            "RunsTable": _table(),
            "DataBucket": _bucket(resources.lifecycle_rules()),
            "ResultsBucket": _bucket(),
            "CoreLayer": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": "build/layers/core.zip", "CompatibleRuntimes": [RUNTIME]},
            },
            "AnalyticsLayer": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {
                    "Content": "build/layers/analytics.zip",
                    "CompatibleRuntimes": [RUNTIME],
                },
            },
        },
        "Outputs": {},
    }
    res = out["Resources"]
    for function in resources.FUNCTIONS:
        res[f"{logical_id(function.name)}Function"] = _function(function)
    for mapping in resources.STREAM_MAPPINGS:
        res[f"{logical_id(mapping.function)}StreamMapping"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": f"{logical_id(mapping.function)}Function"},
                "EventSourceArn": {"Fn::GetAtt": ["RunsTable", "StreamArn"]},
                "StartingPosition": "LATEST",
                "BatchSize": mapping.batch_size,
                "MaximumBatchingWindowInSeconds": int(mapping.max_batching_window_s),
                "MaximumRetryAttempts": mapping.maximum_retry_attempts,
                "BisectBatchOnFunctionError": mapping.bisect_on_error,
                "FunctionResponseTypes": (
                    ["ReportBatchItemFailures"] if mapping.report_batch_item_failures else []
                ),
                "FilterCriteria": {
                    "Filters": [{"Pattern": json.dumps(p)} for p in mapping.filter_patterns]
                },
            },
        }
    stream = _function(resources.STREAM)
    stream["Properties"]["Layers"].insert(0, {"Fn::Sub": LWA_LAYER})
    stream["Properties"]["Environment"]["Variables"] |= {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "PORT": "8000",
    }
    res["StreamFunction"] = stream
    res["StreamFunctionUrl"] = {
        "Type": "AWS::Lambda::Url",
        "Properties": {
            "TargetFunctionArn": {"Fn::GetAtt": ["StreamFunction", "Arn"]},
            "AuthType": "NONE",
            "InvokeMode": "RESPONSE_STREAM",
        },
    }
    out["Outputs"]["StreamUrl"] = {"Value": {"Fn::GetAtt": ["StreamFunctionUrl", "FunctionUrl"]}}
    for machine in resources.STATE_MACHINES:
        res[f"{logical_id(machine.name)}StateMachine"] = _state_machine(machine)
    for schedule in resources.SCHEDULES:
        res[f"{logical_id(schedule.name)}Schedule"] = {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "ScheduleExpression": schedule.expression,
                "ScheduleExpressionTimezone": schedule.timezone,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {
                    "Arn": {"Ref": f"{logical_id(schedule.state_machine)}StateMachine"},
                    "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                    "Input": json.dumps(schedule.input),
                },
            },
        }
    res |= _roles()
    return out


def _roles() -> dict[str, Any]:
    def role(service: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": service},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": (
                    ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
                    if service == "lambda.amazonaws.com"
                    else []
                ),
                "Policies": [
                    {
                        "PolicyName": "quantdesk",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                    }
                ],
            },
        }

    table = [{"Fn::GetAtt": ["RunsTable", "Arn"]}, {"Fn::Sub": "${RunsTable.Arn}/index/*"}]
    buckets = [
        {"Fn::Sub": "${DataBucket.Arn}/*"},
        {"Fn::Sub": "${ResultsBucket.Arn}/*"},
        {"Fn::GetAtt": ["DataBucket", "Arn"]},
        {"Fn::GetAtt": ["ResultsBucket", "Arn"]},
    ]
    machines = [{"Ref": f"{logical_id(m.name)}StateMachine"} for m in resources.STATE_MACHINES]
    return {
        "FunctionRole": role(
            "lambda.amazonaws.com",
            [
                {
                    "Effect": "Allow",
                    "Action": [
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:Query",
                    ],
                    "Resource": table,
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    "Resource": {"Fn::GetAtt": ["RunsTable", "StreamArn"]},
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                    "Resource": buckets,
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "states:StartExecution",
                        "states:StopExecution",
                        "states:DescribeExecution",
                    ],
                    "Resource": "*",
                },
            ],
        ),
        "StateMachineRole": role(
            "states.amazonaws.com",
            [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:UpdateItem", "dynamodb:PutItem"],
                    "Resource": table,
                },
                {
                    "Effect": "Allow",
                    "Action": ["lambda:InvokeFunction"],
                    "Resource": {
                        "Fn::Sub": "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                        f"{resources.PREFIX}-*"
                    },
                },
            ],
        ),
        "SchedulerRole": role(
            "scheduler.amazonaws.com",
            [
                {
                    "Effect": "Allow",
                    "Action": ["states:StartExecution"],
                    "Resource": machines or "*",
                },
            ],
        ),
    }


def rendered_text() -> str:
    return json.dumps(render(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = rendered_text()
    if argv[1:] == ["--check"]:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run `python -m infrastructure.template`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
