"""Start the real local stack (``python -m infrastructure.local up``, exactly what ``make up``
runs) in a subprocess on free ports: used by the ``stack`` test fixture, the restart tests and
benchmarks. Its state lives in ``state_dir`` (by default a folder next to the log, so a test
stack never touches the developer's ``.local/state``)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx

from quantdesk import aws, stack_outputs
from quantdesk.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
#: the local cloud's stack (``infrastructure.local.cloud.STACK_NAME``)
STACK_NAME = "quantdesk"
#: extra environment for test stacks: the SSE app's process-local counters (GET /runs/_stats);
#: per-user run limits high enough for suites that start many runs as one user; the local
#: cloud's fault injection (POST /_local/faults)
TEST_ENV = {
    "QD_STREAM_STATS": "1",
    "QD_MAX_STARTS_PER_MINUTE": "1000",
    "QD_MAX_RUNS_IN_FLIGHT": "100",
    "QD_LOCAL_FAULTS": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    base_url: str
    #: host:port of the LocalStack-compatible endpoint (for ``LOCALSTACK_HOST``)
    aws_endpoint: str
    log: Path
    process: subprocess.Popen[bytes]
    #: the CloudFormation stack the local cloud deployed into the endpoint
    name: str = ""
    status: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    pid: int = 0

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=f"http://{self.aws_endpoint}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def environment(self) -> dict[str, str]:
        """Settings for a client of the stack: names from its outputs (the stream-token key
        is read from the secret its ``StreamSecretName`` names)."""
        return stack_outputs.environment(self.outputs)


def deployed(
    base_url: str, aws_endpoint: str, log: Path, process: subprocess.Popen[bytes]
) -> Stack:
    """The stack as the endpoint's CloudFormation describes it."""
    bare = Stack(base_url=base_url, aws_endpoint=aws_endpoint, log=log, process=process)
    (described,) = bare.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"]
    return Stack(
        base_url=base_url,
        aws_endpoint=aws_endpoint,
        log=log,
        process=process,
        pid=process.pid,
        name=described["StackName"],
        status=described["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
    )


@contextlib.contextmanager
def running_stack(
    log: Path,
    *,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    timeout_s: float = 120,
    state_dir: Path | None = None,
) -> Iterator[Stack]:
    """The stack, ready (``/healthz`` answers); stopped on exit (SIGTERM, a clean stop) unless
    the test already stopped or killed ``stack.process``."""
    port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "LOCALSTACK_HOST"}
    env.update(TEST_ENV if extra_env is None else extra_env)
    command = [sys.executable, "-m", "infrastructure.local", "up"]
    command += ["--port", str(port), "--aws-port", str(aws_port)]
    command += ["--state-dir", str(state_dir or log.parent / "state"), *args]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
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
        yield deployed(base_url, f"127.0.0.1:{aws_port}", log, process)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def stack_clients(stack: Stack) -> Iterator[None]:
    """This process's AWS clients pointed at the stack's endpoint, its settings from the stack
    (restored afterwards)."""
    environment = {"LOCALSTACK_HOST": stack.aws_endpoint} | stack.environment()
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    aws.reset()
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        aws.reset()
        get_settings.cache_clear()
