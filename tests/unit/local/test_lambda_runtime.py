"""The hook that makes moto run our real handlers (pinned moto: this test guards it)."""

from __future__ import annotations

import json

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from quantdesk import aws
from tests.unit.lambda_zip import placeholder_zip


def test_invoke_api_runs_the_handler_and_reports_errors_like_lambda(moto_aws: None) -> None:
    # Given a registered function whose code is a stand-in in tests/unit/local
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = aws.client("lambda")
    for name in ("ok-fn", "bad-fn"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="h.h",
            Code={"ZipFile": placeholder_zip("h.h")},
        )
    runtime = LambdaRuntime(
        (
            resources.Function(
                name="ok-fn", code_dir="tests/unit/local", handler="fake_workers.succeed"
            ),
            resources.Function(
                name="bad-fn", code_dir="tests/unit/local", handler="fake_workers.fail"
            ),
        ),
        REGION,
        ACCOUNT,
    )
    install(runtime)
    # When both are invoked through the Lambda API
    ok = client.invoke(FunctionName="ok-fn", Payload=json.dumps({"run_id": "r1"}))
    bad = client.invoke(FunctionName="bad-fn", Payload=b"{}")
    # Then the handler's return value is the payload, and an exception is a function error
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read()) == {"result_key": "runs/r1/result.json", "rows": 3}
    assert bad["FunctionError"]
    error = json.loads(bad["Payload"].read())
    assert error["errorType"] == "LookbackTooLong"
    assert "longer than" in error["errorMessage"]
    assert runtime.invocations == {"ok-fn": 1, "bad-fn": 1}
