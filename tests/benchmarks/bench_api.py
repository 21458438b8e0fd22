"""API cold start: fresh-process import of the Chalice app, as Lambda does on a cold start.

Prints the median over fresh processes, whether pandas/numpy were imported (they must not be),
and the ratio against importing boto3 alone in the same run (the floor any handler pays).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from tests.conftest import ROOT

RUNS = 7
APP_IMPORT = """
import json, sys, time
sys.path.insert(0, "functions/api")
t = time.perf_counter()
import app
elapsed = time.perf_counter() - t
heavy = {name: name in sys.modules for name in ("pandas", "numpy")}
print(json.dumps({"s": elapsed, **heavy}))
"""
BASELINE = """
import json, time
t = time.perf_counter()
import boto3
print(json.dumps({"s": time.perf_counter() - t}))
"""


def _measure(code: str) -> list[dict[str, float]]:
    out = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    app = _measure(APP_IMPORT)
    base = _measure(BASELINE)
    app_ms = statistics.median(r["s"] for r in app) * 1000
    base_ms = statistics.median(r["s"] for r in base) * 1000
    heavy = any(r["pandas"] or r["numpy"] for r in app)
    print(f"API app import (fresh process, median of {RUNS}): {app_ms:7.1f} ms")
    print(f"baseline: import boto3 alone              : {base_ms:7.1f} ms")
    print(f"ratio app / boto3                          : {app_ms / base_ms:7.2f}x")
    print(f"pandas or numpy imported by the API        : {'YES (regression)' if heavy else 'no'}")
