"""Fixtures shared by every test layer.

* ``moto_aws`` (unit): moto's in-process ``mock_aws`` with Step Functions execution on, the
  template's table and buckets created from ``infrastructure.resources``.
* ``stack`` (integration, e2e): the real local stack, ``python -m infrastructure.local up``, in a
  subprocess on free ports, exactly what ``make up`` runs; started once per session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("LOCALSTACK_HOST", None)
# LocalStack's account id, as the local cloud uses; moto reads it when first imported
os.environ["MOTO_ACCOUNT_ID"] = "000000000000"
os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    from infrastructure import resources
    from infrastructure.local.cloud import ACCOUNT, REGION
    from quantdesk import aws
    from quantdesk.settings import get_settings

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
        yield
    aws.reset()
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    base_url: str
    aws_endpoint: str
    log: Path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port, aws_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    env = {k: v for k, v in os.environ.items() if k != "LOCALSTACK_HOST"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infrastructure.local",
                "up",
                "--port",
                str(port),
                "--aws-port",
                str(aws_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"stack exited early:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"stack not ready:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield Stack(base_url=base_url, aws_endpoint=f"127.0.0.1:{aws_port}", log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
