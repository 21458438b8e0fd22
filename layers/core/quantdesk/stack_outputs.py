"""Settings for clients outside the stack's functions (the CLI, tests), read from the deployed
stack's CloudFormation outputs: table and bucket names are CloudFormation's, never fixed."""

from __future__ import annotations

from typing import Final

from quantdesk import aws

#: stack output -> the ``quantdesk.settings`` variable it sets
OUTPUT_SETTINGS: Final = {
    "TableName": "QD_TABLE_NAME",
    "DataBucketName": "QD_DATA_BUCKET",
    "ResultsBucketName": "QD_RESULTS_BUCKET",
    "ScenarioRunStateMachineArn": "QD_SCENARIO_RUN_ARN",
    "IngestionStateMachineArn": "QD_INGESTION_ARN",
    "StreamSecretName": "QD_STREAM_SECRET_NAME",
    "ProjectorFunctionName": "QD_PROJECTOR_FUNCTION",
    "ProjectorDlqName": "QD_PROJECTOR_DLQ",
}


def outputs(stack_name: str) -> dict[str, str]:
    (stack,) = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def environment(stack_outputs: dict[str, str]) -> dict[str, str]:
    """The settings' variables the outputs name."""
    return {env: stack_outputs[key] for key, env in OUTPUT_SETTINGS.items() if key in stack_outputs}
