"""``infrastructure/deploy.sh`` (make deploy / make destroy) with the real AWS CLI.

Bad input fails before any AWS call; the whole sequence (artifact bucket, package, deploy, UI
sync, teardown) runs against moto's server started here, with the part of the template moto's
CloudFormation can create.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infrastructure import cloudformation, package, resources
from tests.conftest import ROOT, free_port
from tests.unit.deploy.moto_subset import creatable

SCRIPT = ROOT / "infrastructure" / "deploy.sh"
BIN = Path(sys.executable).parent


def run(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """No credentials or endpoint from this machine: only what the test gives."""
    keep = {"PATH": f"{BIN}:{os.environ['PATH']}", "LANG": "C.UTF-8"}
    return {**keep, **extra}


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[str, Path]:
    """An ``aws`` that records its arguments and fails: what ran before the script stopped."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "aws"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexit 1\n')
    fake.chmod(0o755)
    return str(fake), log


@pytest.mark.parametrize(
    ("stage", "problem"),
    [
        ("", "STAGE is required"),
        ("1st", "not a valid stage name"),
        ("dev_1", "not a valid stage name"),
        ("dev-", "not a valid stage name"),
        ("a" * 31, "not a valid stage name"),
        ("Dev", "not a valid stage name"),
        ("aws-test", "not a valid stage name"),
    ],
)
def test_a_bad_stage_name_fails_before_any_aws_call(
    stage: str, problem: str, recorder: tuple[str, Path], tmp_path: Path
) -> None:
    fake, log = recorder
    result = run(
        ["deploy", stage], clean_env(AWS_CLI=fake, AWS_REGION="us-east-1", HOME=str(tmp_path))
    )
    assert result.returncode == 2
    assert problem in result.stderr
    assert not log.exists()


def test_missing_credentials_fail_before_anything_is_touched(tmp_path: Path) -> None:
    # the real CLI, no credentials anywhere (empty HOME, no instance metadata)
    env = clean_env(HOME=str(tmp_path), AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    dist = tmp_path / "dist"
    result = run(["deploy", "dev"], {**env, "DIST": str(dist)})
    assert result.returncode == 2
    assert "no usable AWS credentials" in result.stderr
    assert "Unable to locate credentials" in result.stderr
    assert not dist.exists()


def test_no_region_is_named(tmp_path: Path) -> None:
    env = clean_env(HOME=str(tmp_path), AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run(["deploy", "dev"], env)
    assert result.returncode == 2
    assert "no AWS region" in result.stderr


@pytest.fixture
def moto_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    # moto's server with the local cloud's CloudFormation fixes (infrastructure/local/moto_cfn):
    # an update that changes a function with layers fails in plain moto
    serve = (
        "from infrastructure.local import moto_cfn; moto_cfn.install(); "
        f"from moto.server import main; main(['-H', '127.0.0.1', '-p', '{port}'])"
    )
    process = subprocess.Popen([sys.executable, "-c", serve], cwd=ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                boto3.client(
                    "sts",
                    endpoint_url=f"http://127.0.0.1:{port}",
                    region_name="us-east-1",
                    aws_access_key_id="t",
                    aws_secret_access_key="t",
                ).get_caller_identity()
                break
            except Exception:
                time.sleep(0.2)
        # moto finds a template uploaded to S3 only by a URL naming "localhost"
        yield f"localhost:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def endpoint_client(service: str, host: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://{host}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def moto_dist(tmp_path: Path) -> Path:
    """dist/ as make package writes it, the template cut to what moto can create, a small UI."""
    dist = tmp_path / "dist"
    package.build_functions(dist)
    template, _ = creatable(json.loads(cloudformation.rendered_text()))
    (dist / "template.json").write_text(json.dumps(template))
    (dist / "layers").mkdir()
    for layer in (layer.name for layer in resources.LAYERS):
        shutil.make_archive(
            str(dist / "layers" / layer), "zip", ROOT / "layers" / "core", "quantdesk"
        )
    (dist / "web" / "history").mkdir(parents=True)
    (dist / "web" / "index.html").write_text("<!doctype html><title>quantdesk</title>")
    (dist / "web" / "history" / "index.html").write_text("<!doctype html><title>history</title>")
    return dist


def test_deploy_then_destroy_against_the_local_endpoint(
    moto_server: str, moto_dist: Path, tmp_path: Path
) -> None:
    env = clean_env(HOME=str(tmp_path), LOCALSTACK_HOST=moto_server, DIST=str(moto_dist))

    deployed = run(["deploy", "ci"], env)
    assert deployed.returncode == 0, deployed.stderr
    assert "quantdesk ci is deployed: s3://" in deployed.stdout
    assert "Uploading to" not in deployed.stderr

    cfn = endpoint_client("cloudformation", moto_server)
    stack = cfn.describe_stacks(StackName="quantdesk-ci")["Stacks"][0]
    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    web = cfn.describe_stack_resource(StackName="quantdesk-ci", LogicalResourceId="WebBucket")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    s3 = endpoint_client("s3", moto_server)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=web)["Contents"]}
    assert keys == {"index.html", "history/index.html"}
    # the code went through the per-account artifact bucket, under the stack's prefix
    account = endpoint_client("sts", moto_server).get_caller_identity()["Account"]
    artifacts = s3.list_objects_v2(Bucket=f"quantdesk-artifacts-{account}-us-east-1")
    assert all(o["Key"].startswith("quantdesk-ci/") for o in artifacts["Contents"])
    function = endpoint_client("lambda", moto_server).get_function(
        FunctionName="quantdesk-ci-worker"
    )
    assert function["Configuration"]["Environment"]["Variables"]["QD_CODE_VERSION"] != "unknown"

    again = run(["deploy", "ci"], env)
    assert again.returncode == 0, again.stderr

    destroyed = run(["destroy", "ci"], env)
    assert destroyed.returncode == 0, destroyed.stderr
    assert web not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    gone = run(["destroy", "ci"], env)
    assert gone.returncode == 2
    assert "there is no stack quantdesk-ci" in gone.stderr
