"""A researcher's own price file: tickers the lake does not know (unit, integration, e2e)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.stack import ROOT, Stack


def own_prices(symbols: tuple[str, ...], days: int = 320, end: dt.date | None = None) -> str:
    """A long-format OHLCV CSV of random walks ending on ``end`` (default: yesterday)."""
    rng = np.random.default_rng(7)
    end = end or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    dates = [str(d) for d in np.busday_offset(end, -np.arange(days)[::-1], roll="backward")]
    lines = ["date,symbol,open,high,low,close,volume"]
    for symbol in symbols:
        close = 50 * np.exp(np.cumsum(rng.normal(0.0005, 0.015, days)))
        for day, c in zip(dates, close, strict=True):
            lines.append(f"{day},{symbol},{c:.4f},{c * 1.01:.4f},{c * 0.99:.4f},{c:.4f},1000")
    return "\n".join(lines) + "\n"


def ingest_files(stack: Stack, folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``quantdesk ingest --source files --path FOLDER [options]`` against the running stack."""
    return subprocess.run(
        [
            *(str(Path(sys.executable).parent / "quantdesk"), "ingest", "--source", "files"),
            *("--path", str(folder), *options, "--endpoint", stack.aws_endpoint),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
