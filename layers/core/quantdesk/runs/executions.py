"""Step Functions access for runs: start (execution name = run id), describe and stop."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable


@dataclass(frozen=True)
class ExecutionState:
    status: str
    error: str | None = None
    cause: str | None = None


class Executions:
    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn

    def execution_arn(self, run_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{run_id}"

    def start(self, run_id: str, payload: dict[str, Any]) -> None:
        try:
            aws.client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn, name=run_id, input=json.dumps(payload)
            )
        except ClientError as exc:
            # Step Functions' idempotency: the same name and input while it runs returns the
            # running execution; a finished one with that name is already this run's workflow
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return
            raise ServiceUnavailable("could not start the run's workflow") from exc

    def describe(self, run_id: str) -> ExecutionState | None:
        """The run's execution, None when it was never started."""
        try:
            described = aws.client("stepfunctions").describe_execution(
                executionArn=self.execution_arn(run_id)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise ServiceUnavailable("could not read the run's workflow") from exc
        return ExecutionState(described["status"], described.get("error"), described.get("cause"))

    def stop(self, run_id: str) -> None:
        try:
            aws.client("stepfunctions").stop_execution(
                executionArn=self.execution_arn(run_id),
                error="Cancelled",
                cause="cancelled by the user",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise ServiceUnavailable("could not stop the run's workflow") from exc
