"""A researcher's terminal session against the running stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Stack

pytestmark = pytest.mark.e2e


def quantdesk(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "quantdesk"), *args, "--url", stack.base_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ask_ranks_runs_and_prints_the_result_table(stack: Stack) -> None:
    done = quantdesk(stack, "ask", "stocks with strong uptrends")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("trend_strength") < out.index("Running trend_strength")
    for status in ("queued", "running", "progress", "succeeded"):
        assert status in out
    assert "Symbol" in out and "ADX" in out


def test_ask_reports_a_failed_run_with_its_reason(stack: Stack) -> None:
    done = quantdesk(
        stack, "ask", "stocks with strong uptrends", "--params", '{"as_of": "1990-01-01"}'
    )
    assert done.returncode == 2
    assert "Run failed" in done.stdout and "1990-01-01" in done.stdout


def test_ask_says_when_nothing_matches(stack: Stack) -> None:
    done = quantdesk(stack, "ask", "what's the weather in paris tomorrow")
    assert done.returncode == 1
    assert "No confident match" in done.stdout
