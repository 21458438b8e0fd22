"""The local cloud killed with SIGKILL while a run is in flight, then started again on the same
state folder: the run must end (resumed to ``succeeded``, or ``failed`` as interrupted by the
restart) and its viewer must get the terminal event. Needs the durable local cloud
(``infrastructure/local/persistence.py``, ``up --state-dir``); until it is there the row says
so instead of pretending.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.reliability.faults import Row, counts, start, watch
from tests.stack import ROOT, TEST_ENV, free_port

FAULT = "local cloud SIGKILL mid-run"


def _up(state: Path, port: int, aws_port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "infrastructure.local", "up", "--state-dir", str(state)]
    command += ["--port", str(port), "--aws-port", str(aws_port)]
    env = {k: v for k, v in os.environ.items() if k != "LOCALSTACK_HOST"} | TEST_ENV
    with log.open("a") as out:
        # its own session, so the kill takes its worker processes too, as a crash would
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _ready(base_url: str, process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the local cloud exited while starting")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the local cloud did not become ready")


def local_cloud_sigkill_mid_run(tmp: Path) -> Row:
    if not (ROOT / "infrastructure" / "local" / "persistence.py").exists():
        return Row(FAULT, "PENDING: needs the durable local cloud (not on this branch yet)")
    state, log = tmp / "state", tmp / "kill.log"
    port, aws_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    first = _up(state, port, aws_port, log)
    second = None
    try:
        _ready(base_url, first)
        with httpx.Client(base_url=base_url, timeout=120) as client:
            accepted = start(client)
            time.sleep(0.1)  # mid-run: answered 202, execution under way
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        began = time.perf_counter()
        second = _up(state, port, aws_port, log)
        _ready(base_url, second)
        with httpx.Client(base_url=base_url, timeout=120) as client:
            watched = watch(client, accepted["stream_url"])
            lost, duplicated = counts(client, accepted["run_id"], watched)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
    error = (watched.error or {}).get("message", "")
    ok = watched.status == "succeeded" or (watched.status == "failed" and "restart" in error)
    ended = f"yes ({watched.status}{': ' + error if error else ''})"
    return Row(
        FAULT,
        ended if ok else f"NO: {watched.status} {error}".strip(),
        lost,
        duplicated,
        watched.ended_at - began,
        "restart included in the time",
    )
