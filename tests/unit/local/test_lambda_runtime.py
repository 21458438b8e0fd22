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


def test_a_crashed_worker_process_fails_its_invocation_and_the_next_gets_a_fresh_one() -> None:
    # Given two functions run in the worker processes (an isolated layer), one of which kills
    # its process mid-invoke
    runtime = LambdaRuntime(
        tuple(
            resources.Function(
                name=name,
                code_dir="tests/unit/local",
                handler=f"fake_workers.{handler}",
                layers=("analytics",),
            )
            for name, handler in (("crash-fn", "crash"), ("ok-fn", "succeed"))
        ),
        REGION,
        ACCOUNT,
        isolated_layers=("analytics",),
        processes=1,
    )
    try:
        # When the crashing one is invoked, then the working one
        crashed, crashed_errored = runtime.invoke("crash-fn", {})
        ok, ok_errored = runtime.invoke("ok-fn", {"run_id": "r1"})
    finally:
        runtime.shutdown()
    # Then the crash is that invocation's function error, named as Lambda names it
    assert crashed_errored
    assert json.loads(crashed)["errorType"] == "Runtime.ExitError"
    # And the next invocation runs in a fresh process instead of failing with a broken pool
    assert not ok_errored
    assert json.loads(ok) == {"result_key": "runs/r1/result.json", "rows": 3}
