"""Ingestion through the real workflow on the running stack, as a researcher triggers it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack import ROOT, Stack

pytestmark = pytest.mark.integration

# sentiment rows for one sample symbol on dates the sample already covers (so the rest of the
# suite's scenarios see the same calendar), plus rows that must be quarantined
SENTIMENT = """date,symbol,score,mentions
2026-10-29,BPF,0.42,120
2026-10-30,BPF,0.35,80
2031-01-02,BPF,0.10,5
2026-10-28,BPF,7.5,10
2026-10-30,ZZZZZ,0.1,3
"""


def ingest(stack: Stack, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "quantdesk"),
            "ingest",
            "--source",
            "files",
            "--path",
            str(folder),
            "--endpoint",
            stack.aws_endpoint,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_files_ingestion_loads_good_rows_quarantines_bad_ones_and_is_idempotent(
    stack: Stack, tmp_path: Path
) -> None:
    # Given a file with good and bad sentiment rows
    (tmp_path / "sentiment.csv").write_text(SENTIMENT)
    # When it is ingested through the workflow
    first = ingest(stack, tmp_path)
    # Then the good rows load into a new snapshot and the bad ones are quarantined with reasons
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "SUCCEEDED_WITH_WARNINGS" in out
    assert "new snapshot" in out
    assert "2/5 rows" in out
    assert "quarantined 3" in out and "future_date" in out and "unknown_symbol" in out
    assert "quarantine/" in out  # the machine-readable report's key
    # And the same batch again adds nothing
    again = ingest(stack, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "new snapshot" not in again.stdout


def test_a_source_with_no_usable_rows_fails_readably(stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_text("date,symbol,close\nnot-a-date,BPF,abc\n")
    done = ingest(stack, tmp_path)
    assert done.returncode == 1
    assert "FAILED" in done.stdout
