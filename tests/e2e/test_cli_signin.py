"""Signing in from the terminal against the running stack: dev-token, login, --user, and the
default researcher; each run belongs to whoever the CLI acted as."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Stack

pytestmark = pytest.mark.e2e

QUANTDESK = str(Path(sys.executable).parent / "quantdesk")
PROMPT = "stocks with strong uptrends"


def quantdesk(stack: Stack, config_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    return subprocess.run(
        [QUANTDESK, *args, "--url", stack.base_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def run_ids(stack: Stack, token: str | None) -> set[str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{stack.base_url}/analysis/runs?limit=100", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return {run["run_id"] for run in response.json()["runs"]}


def dev_token(stack: Stack, config_home: Path, user: str) -> str:
    done = quantdesk(stack, config_home, "dev-token", user)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].count(".") == 2, done.stdout  # the token, alone
    return lines[0]


def started_run(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("Running "))
    return line.rsplit(" as ", 1)[1].strip()


def test_dev_token_is_a_bearer_token_for_a_new_user(stack: Stack, tmp_path: Path) -> None:
    # Given a token for a user the stack has never seen
    token = dev_token(stack, tmp_path, "dana")
    # Then the API accepts it, and dana has no runs of anyone else's
    assert run_ids(stack, token) == set()
    # And a tampered token is refused
    response = httpx.get(
        f"{stack.base_url}/analysis/runs", headers={"Authorization": f"Bearer {token}x"}
    )
    assert response.status_code == 401


def test_dev_token_refuses_anything_but_the_local_stack(tmp_path: Path) -> None:
    done = subprocess.run(
        [QUANTDESK, "dev-token", "dana", "--url", "https://d1234.cloudfront.net"],
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "not the local stack" in done.stderr


def test_ask_acts_as_user_then_login_then_default_researcher(stack: Stack, tmp_path: Path) -> None:
    # --user: the run is erin's, not the default researcher's
    as_erin = started_run(quantdesk(stack, tmp_path, "ask", PROMPT, "--user", "erin"))
    erin = dev_token(stack, tmp_path, "erin")
    assert as_erin in run_ids(stack, erin)
    assert as_erin not in run_ids(stack, None)

    # login: the session is cached privately and every later command acts as frank
    login = quantdesk(stack, tmp_path, "login", "--username", "frank")
    assert login.returncode == 0, login.stderr
    cache = tmp_path / "quantdesk" / "tokens.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    as_frank = started_run(quantdesk(stack, tmp_path, "ask", PROMPT))
    assert as_frank in run_ids(stack, dev_token(stack, tmp_path, "frank"))
    assert as_frank not in run_ids(stack, erin)

    # logout: back to the local stack's default researcher
    assert quantdesk(stack, tmp_path, "logout").returncode == 0
    as_default = started_run(quantdesk(stack, tmp_path, "ask", PROMPT))
    assert as_default in run_ids(stack, None)
    assert as_default in run_ids(stack, dev_token(stack, tmp_path, "researcher"))
