"""Fixtures shared by every test layer.

* ``moto_aws`` (unit): moto's in-process ``mock_aws`` with Step Functions execution on, the
  template's table and buckets created from ``infrastructure.resources``.
* ``stack`` (integration, e2e): the real local stack, ``python -m infrastructure.local up``, in a
  subprocess on free ports, exactly what ``make up`` runs; started once per session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from quantdesk import aws
from quantdesk.settings import get_settings
from tests.stack import ROOT, Stack, free_port, running_stack

__all__ = ["ROOT", "Stack", "free_port"]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("LOCALSTACK_HOST", None)
# LocalStack's account id, as the local cloud uses; moto reads it when first imported
os.environ["MOTO_ACCOUNT_ID"] = "000000000000"
os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws  # noqa: PLC0415 - only the unit tests need moto

    from infrastructure.local import distributed_map  # noqa: PLC0415 - patches moto

    distributed_map.install()  # the Distributed Map features, as the local cloud has them
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    for name, value in resources.environment(REGION, ACCOUNT).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    aws.reset()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        dynamodb = aws.client("dynamodb")
        dynamodb.create_table(**resources.TABLE.create_kwargs())
        for bucket in resources.BUCKETS:
            aws.client("s3").create_bucket(Bucket=bucket)
        aws.client("secretsmanager").create_secret(
            Name=resources.STREAM_KEY_SECRET, SecretString="k" * 48
        )
        yield
    aws.reset()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack") / "stack.log") as running:
        yield running
