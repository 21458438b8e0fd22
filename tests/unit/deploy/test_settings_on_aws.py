"""On AWS the resource names do not default: settings fail at cold start naming what is
missing (the stream key's own checks live with quantdesk.runs.tokens)."""

from __future__ import annotations

import pytest

from quantdesk.settings import MissingSettingError, Settings, on_aws

DEPLOYED = {
    "QD_ENV": "aws",
    "QD_TABLE_NAME": "qd-dev-RunsTable-X",
    "QD_DATA_BUCKET": "qd-dev-databucket-x",
    "QD_RESULTS_BUCKET": "qd-dev-resultsbucket-x",
    "QD_SCENARIO_RUN_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:qd-dev-scenario-run",
    "QD_INGESTION_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:qd-dev-ingestion",
}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "qd-dev-api"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "quantdesk-api", "LOCALSTACK_HOST": "127.0.0.1:4566"}, False),
        ({"QD_ENV": "aws"}, True),
        ({"QD_ENV": "local", "AWS_LAMBDA_FUNCTION_NAME": "x"}, False),
    ],
)
def test_where_we_run_is_detected(environ: dict[str, str], expected: bool) -> None:
    assert on_aws(environ) is expected


def test_a_deployed_function_without_its_names_fails_naming_each() -> None:
    environ = {k: v for k, v in DEPLOYED.items() if k not in {"QD_TABLE_NAME", "QD_INGESTION_ARN"}}
    with pytest.raises(MissingSettingError) as error:
        Settings.for_lambda(environ)
    assert "QD_TABLE_NAME" in str(error.value) and "QD_INGESTION_ARN" in str(error.value)
    assert "QD_DATA_BUCKET" not in str(error.value)


def test_locally_the_local_cloud_names_still_apply() -> None:
    settings = Settings.for_lambda({"AWS_LAMBDA_FUNCTION_NAME": "x", "LOCALSTACK_HOST": "h:1"})
    assert settings.table_name == "quantdesk"
