"""A researcher's terminal session against the running stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from quantdesk.ingestion.sources import sample
from tests.conftest import ROOT, Stack
from tests.own_tickers import ingest_files, own_prices

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


def test_own_tickers_ingested_from_a_csv_can_be_asked_about(stack: Stack, tmp_path: Path) -> None:
    # Given a price file of tickers the lake does not know, on the sample's calendar
    own = ("OWNAA", "OWNBB", "OWNCC", "OWNDD")
    folder = tmp_path / "My Ideas"
    folder.mkdir()
    (folder / "prices.csv").write_text(own_prices(own, days=300, end=sample.END_DATE))
    # When it is ingested through the workflow
    ingested = ingest_files(stack, folder)
    # Then the tickers are registered in a universe named after the folder, nothing quarantined
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert "registered 4 new symbol(s) in universe my_ideas" in ingested.stdout
    assert "quarantined" not in ingested.stdout
    # And a scenario runs on that universe
    params = '{"universe": "my_ideas", "momentum_lookback": 126}'
    done = quantdesk(stack, "ask", "stocks with strong uptrends", "--params", params)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(symbol in done.stdout for symbol in own)
    # And a universe the lake does not know is refused, naming the known ones
    refused = quantdesk(
        stack, "ask", "stocks with strong uptrends", "--params", '{"universe": "nope"}'
    )
    assert refused.returncode != 0
    assert "unknown universe 'nope'" in refused.stdout + refused.stderr
    assert "my_ideas" in refused.stdout + refused.stderr
