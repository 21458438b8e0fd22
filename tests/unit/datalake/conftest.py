"""A moto-backed data lake, built from the same resource definitions as the local cloud."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from moto import mock_aws

from infrastructure import resources
from quantdesk import aws
from quantdesk.datalake.reader import Lake
from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
from quantdesk.ingestion.pipeline import IngestionContext

NOW = dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    aws.reset()
    with mock_aws():
        ddb = aws.client("dynamodb")
        ddb.create_table(**resources.TABLE.create_kwargs())
        s3 = aws.client("s3")
        for bucket in resources.BUCKETS:
            s3.create_bucket(Bucket=bucket)
        yield
    aws.reset()


@pytest.fixture
def ctx(aws_env: None) -> IngestionContext:
    clock = iter(NOW + dt.timedelta(seconds=i) for i in range(10_000))
    return IngestionContext(
        LakeObjectStore(resources.DATA_BUCKET),
        SnapshotRepository(resources.TABLE.name),
        clock=lambda: next(clock),
    )


@pytest.fixture
def lake(ctx: IngestionContext) -> Lake:
    return Lake(ctx.store, ctx.snapshots)
