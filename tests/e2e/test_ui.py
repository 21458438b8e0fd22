"""The web UI end to end: headless Chromium (Debian's) drives the exported UI on the running stack.

Each case runs one test of ``frontend/e2e/ui.mjs`` (playwright-core) against ``stack.base_url``;
screenshots land in ``test-artifacts/ui/``. ``accessibility_audit`` injects axe-core (a dev
dependency, from ``node_modules``) into the pages; ``keyboard_only_flow`` drives them by keyboard
alone. ``switch_user`` signs in as a second user through the local sign-in page and back.
``make test`` installs Chromium (``make browser``) and builds the UI (``make frontend``)
first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from quantdesk.ingestion.sources import sample
from tests.own_tickers import ingest_files, own_prices
from tests.stack import ROOT

pytestmark = pytest.mark.e2e

FRONTEND = ROOT / "frontend"
SCRIPT = FRONTEND / "e2e" / "ui.mjs"
CHROMIUM = os.environ.get("QD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "ui"

UI_TESTS = [
    "prompt_to_result",
    "dropped_connection_resumes",
    "stream_unavailable_falls_back_to_polling",
    "failing_run_shows_reason",
    "accessibility_audit",
    "keyboard_only_flow",
    "switch_user",
    "prompt_analytics",
    "report_and_cached_run",
    "watch_on_a_schedule",
]


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: run `make browser`"
    modules = FRONTEND / "node_modules"
    if not all((modules / name).is_dir() for name in ("playwright-core", "axe-core")):
        return "frontend dependencies are missing: run `make frontend`"
    if not (FRONTEND / "out" / "index.html").is_file():
        return "the web UI is not built: run `make frontend`"
    return None


@pytest.mark.parametrize("name", UI_TESTS)
def test_ui(stack, name: str) -> None:
    # Given the running stack and a built UI
    _run_ui_test(stack, name, {})


def test_ui_runs_a_scenario_on_a_universe_of_own_tickers(stack, tmp_path: Path) -> None:
    # Given a researcher's own tickers ingested into a universe they named
    tickers = ("UIOWA", "UIOWB", "UIOWC")
    (tmp_path / "prices.csv").write_text(own_prices(tickers, days=300, end=sample.END_DATE))
    ingested = ingest_files(stack, tmp_path, "--universe", "ui_own")
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    # Then the UI offers that universe in the card's picker and a run on it succeeds
    env = {"QD_UI_OWN_UNIVERSE": "ui_own", "QD_UI_OWN_TICKERS": ",".join(tickers)}
    _run_ui_test(stack, "own_universe_picker", env)


def _run_ui_test(stack, name: str, extra_env: dict[str, str]) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    env = {
        **os.environ,
        "QD_BASE_URL": stack.base_url,
        "QD_CHROMIUM": CHROMIUM,
        "QD_UI_ARTIFACTS": str(ARTIFACTS),
        **extra_env,
    }
    # When the browser test runs
    proc = subprocess.run(
        ["node", str(SCRIPT), name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    # Then it passes (its output names the failed assertion and the screenshot taken)
    output = f"{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 0, output
    assert "1 passed, 0 failed" in proc.stdout, output
