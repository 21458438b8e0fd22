"""A scenario-run state machine that only waits: runs start (``StartExecution`` succeeds) without
anything running."""

from __future__ import annotations

import json

from infrastructure import resources
from quantdesk import aws


def create_waiting_workflow() -> str:
    """Create it; the ARN of the role it runs as."""
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    aws.client("stepfunctions").create_state_machine(
        name=resources.SCENARIO_RUN.name,
        definition=json.dumps(
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
        ),
        roleArn=role["Arn"],
    )
    return str(role["Arn"])
