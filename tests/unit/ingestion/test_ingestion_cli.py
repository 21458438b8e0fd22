"""``quantdesk ingest`` against moto: starts the workflow, follows it, prints the summary."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from quantdesk import aws
from quantdesk.cli import build_parser, main
from quantdesk.cli import ingest as cli_ingest
from quantdesk.cli.ingest import print_summary, start_and_follow, upload
from quantdesk.ingestion.sources import SOURCES
from quantdesk.ingestion.workflow import _describe
from tests.unit.lambda_zip import placeholder_zip


@pytest.fixture
def workflow(moto_aws: None) -> None:
    role = aws.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]
    for function in resources.INGESTION_FUNCTIONS:
        aws.client("lambda").create_function(
            FunctionName=function.name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler=function.handler,
            Code={"ZipFile": placeholder_zip(function.handler)},
        )
    install(LambdaRuntime(resources.INGESTION_FUNCTIONS, REGION, ACCOUNT))
    aws.client("stepfunctions").create_state_machine(
        name=resources.INGESTION.name,
        definition=resources.render_definition(resources.INGESTION, REGION, ACCOUNT),
        roleArn=role["Arn"],
    )


def test_follows_a_files_ingestion_and_prints_the_summary(workflow: None, tmp_path: Path) -> None:
    (tmp_path / "sectors.csv").write_text("symbol,sector,industry\nAAA,Energy,Oil\n")
    (tmp_path / "prices.csv").write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2024-01-02,AAA,10,11,9,10.5,100\n"
        "2024-01-03,BBB,10,11,9,10.5,100\n"
    )
    assert upload(tmp_path, "landing/cli-1/") == 2
    out = io.StringIO()
    summary = start_and_follow([{"source": "files", "prefix": "landing/cli-1/"}], "cli-1", out)
    print_summary(summary, out)
    text = out.getvalue()
    for step in ("Fetch", "Validate", "Write", "Publish", "Summarize"):
        assert step in text
    assert summary["status"] == "succeeded"
    assert "registered 1 new symbol(s) in universe cli_1: BBB" in text
    assert "SUCCEEDED" in text


def test_files_source_needs_a_path(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    assert main(["ingest", "--source", "files"]) == 2
    assert "--path" in capsys.readouterr().err


def test_registered_with_the_documented_options() -> None:
    args = build_parser().parse_args(
        ["ingest", "--source", "files", "--path", "/tmp", "--dataset", "prices"]
    )
    assert (args.source, args.datasets, str(args.path)) == ("files", ["prices"], "/tmp")


def test_unreachable_stack_is_reported_plainly(
    capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)  # restored after the CLI sets it
    monkeypatch.setattr("quantdesk.cli.ingest.start_and_follow", _boom)
    assert main(["ingest", "--source", "sample"]) == 1
    assert "make up" in capsys.readouterr().err


def _boom(*_: Any, **__: Any) -> Any:
    raise ConnectionError("connection refused")


def test_every_registered_source_can_be_asked_for_and_symbols_reach_the_request(
    monkeypatch: Any,
) -> None:
    assert set(cli_ingest.SOURCES) == set(SOURCES)
    sent: list[Any] = []
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    monkeypatch.setattr("quantdesk.cli.ingest.start_and_follow", lambda r, _: sent.extend(r) or {})
    monkeypatch.setattr("quantdesk.cli.ingest.stack_outputs.outputs", lambda _: {})
    main(["ingest", "--source", "stooq", "--symbol", "AAPL", "--symbol", "MSFT"])
    assert sent == [{"source": "stooq", "options": {"symbols": ["AAPL", "MSFT"]}}]


def test_a_failed_execution_line_says_why() -> None:
    at = dt.datetime(2026, 11, 30, 19, 18, 0, 736000)
    failed = {
        "type": "ExecutionFailed",
        "timestamp": at,
        "executionFailedEventDetails": {"error": "States.Runtime", "cause": "no path $.x"},
    }
    assert _describe(failed) == "19:18:00.736  ExecutionFailed  States.Runtime: no path $.x"
    bare = {"type": "ExecutionFailed", "timestamp": at}
    assert _describe(bare) == "19:18:00.736  ExecutionFailed"
