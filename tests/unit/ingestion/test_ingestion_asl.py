"""The ingestion state machine executed by moto, Lambdas dispatched to our real handlers:
happy path, a failing source caught per source, retry with backoff, all-failed."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pandas as pd
import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from quantdesk import aws
from quantdesk.datalake.repository import SnapshotRepository
from quantdesk.ingestion import pipeline
from quantdesk.ingestion.errors import SourceUnavailableError
from quantdesk.ingestion.sources import get_source
from quantdesk.ingestion.sources.base import Batch
from quantdesk.settings import get_settings
from tests.own_tickers import own_prices
from tests.unit.lambda_zip import placeholder_zip


@pytest.fixture
def execute(moto_aws: None) -> Any:
    iam = aws.client("iam")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for function in resources.INGESTION_FUNCTIONS:
        aws.client("lambda").create_function(
            FunctionName=function.name,
            Runtime="python3.12",
            Role=role,
            Handler=function.handler,
            Code={"ZipFile": placeholder_zip(function.handler)},
        )
    install(LambdaRuntime(resources.INGESTION_FUNCTIONS, REGION, ACCOUNT))
    sfn = aws.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=resources.INGESTION.name,
        definition=resources.render_definition(resources.INGESTION, REGION, ACCOUNT),
        roleArn=role,
    )["stateMachineArn"]

    def run(sources: list[dict[str, Any]]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        name = f"ing-test-{uuid.uuid4().hex[:8]}"
        execution = sfn.start_execution(
            stateMachineArn=arn, name=name, input=json.dumps({"sources": sources})
        )["executionArn"]
        deadline = time.monotonic() + 60
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "execution did not finish"
            time.sleep(0.05)
        summary = SnapshotRepository(get_settings().table_name).get_ingestion(name)
        assert summary is not None, described
        return described["status"], summary, described

    return run


def test_happy_path_publishes_snapshots(execute: Any) -> None:
    status, summary, described = execute([{"source": "sample", "datasets": ["macro", "sectors"]}])
    assert status == "SUCCEEDED"
    assert summary["status"] == "succeeded"
    assert set(summary["snapshots"]) == {"macro", "sectors"}
    assert json.loads(described["output"])["status"] == "succeeded"


def test_failing_source_is_caught_and_the_others_load(execute: Any) -> None:
    status, summary, _ = execute([{"source": "nope"}, {"source": "sample", "datasets": ["macro"]}])
    assert status == "SUCCEEDED"
    assert summary["status"] == "succeeded_with_warnings"
    failed = next(s for s in summary["sources"] if s["status"] == "failed")
    assert failed["source"] == "nope"
    assert "UnknownSourceError" in failed["error"] and "unknown source" in failed["error"]
    assert "macro" in summary["snapshots"]


def test_all_sources_failing_fails_the_execution_with_a_summary(execute: Any) -> None:
    status, summary, _ = execute([{"source": "files", "prefix": "landing/empty/"}])
    assert status == "FAILED"
    assert summary["status"] == "failed"
    assert "no_files" in summary["message"]


class _Flaky:
    """Unavailable on the first call, then a tiny macro batch."""

    name = "flaky"
    calls = 0

    def fingerprint(self, request: Any, landing: Any) -> None:
        return None

    def fetch(self, request: Any, landing: Any) -> Batch:
        type(self).calls += 1
        if type(self).calls == 1:
            raise SourceUnavailableError("vendor answered 503")
        frame = pd.DataFrame(
            {
                "date": ["2024-01-02"],
                "series": ["oil"],
                "value": [70.0],
                "release_date": ["2024-01-10"],
            }
        )
        return Batch(source="flaky", frames={"macro": frame})


def test_transient_source_errors_are_retried_with_backoff(
    execute: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _Flaky.calls = 0
    monkeypatch.setattr(
        pipeline, "get_source", lambda name: _Flaky() if name == "flaky" else get_source(name)
    )
    status, summary, _ = execute([{"source": "flaky"}])
    assert status == "SUCCEEDED", summary
    assert _Flaky.calls == 2
    assert summary["status"] == "succeeded"


def _ticker(i: int) -> str:
    return "B" + "".join(chr(ord("A") + int(d)) for d in f"{i:03d}")


def test_a_bulk_load_fans_out_quarantines_the_bad_file_and_publishes_once(
    execute: Any,
) -> None:
    # Given 205 per-symbol price files, one unreadable and one of no known layout, in landing
    store = pipeline.IngestionContext.from_settings().store
    prefix = "landing/bulk-1/"
    for i in range(205):
        store.put_bytes(f"{prefix}{_ticker(i)}.csv", own_prices((_ticker(i),), days=30).encode())
    store.put_bytes(f"{prefix}CORRUPT.parquet", b"PAR1 not really parquet")
    store.put_bytes(f"{prefix}NOTES.csv", b"what,is,this\n1,2,3\n")
    # When it is loaded in bulk (batches of 100 files: three child executions)
    status, summary, _ = execute(
        [{"source": "files", "prefix": prefix, "options": {"bulk": True, "batch": "bulk one"}}]
    )
    # Then the good files landed, the bad ones are reported, and prices were published once
    assert status == "SUCCEEDED"
    assert summary["status"] == "succeeded_with_warnings", summary["message"]
    (source,) = summary["sources"]
    reasons = {i["file"]: i["reason"] for i in source["issues"]}
    assert reasons == {"CORRUPT.parquet": "unreadable", "NOTES.csv": "unrecognised_columns"}
    history = SnapshotRepository(get_settings().table_name).history("prices")
    assert len(history) == 1
    assert source["registered"]["symbols"] == 205
    batches = store.list_keys(f"raw/files/{summary['run_id']}/batches/")
    assert len([k for k in batches if k.endswith("batch.json")]) == 3
