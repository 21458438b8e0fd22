"""API cold start: fresh-process import of the Chalice app, as Lambda does on a cold start.

Prints the best and the median over fresh processes of the process's CPU time (on a shared,
noisy machine the best run is the cost of the code; the median shows the noise), whether
pandas/numpy were imported (they must not be), and the ratio against importing boto3 alone in
the same run (the floor any handler pays). Bytecode is compiled first, as a Lambda layer ships it.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys

from tests.stack import ROOT

RUNS = 11
BUDGET_MS = 150
APP_IMPORT = """
import json, sys, time
sys.path.insert(0, "functions/api")
t = time.perf_counter(); c = time.process_time()
import app
wall, cpu = time.perf_counter() - t, time.process_time() - c
heavy = {name: name in sys.modules for name in ("pandas", "numpy")}
print(json.dumps({"wall": wall, "cpu": cpu, **heavy}))
"""
BASELINE = """
import json, time
t = time.perf_counter(); c = time.process_time()
import boto3
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c}))
"""


def _measure(code: str) -> list[dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def _best_and_median_ms(samples: list[dict[str, float]]) -> tuple[float, float]:
    cpu = [s["cpu"] * 1000 for s in samples]
    return min(cpu), statistics.median(cpu)


def main() -> None:
    for tree in ("layers/core", "functions/api", "scenarios"):
        compileall.compile_dir(ROOT / tree, quiet=1)
    app = _measure(APP_IMPORT)
    base = _measure(BASELINE)
    app_best, app_median = _best_and_median_ms(app)
    base_best, base_median = _best_and_median_ms(base)
    heavy = any(r["pandas"] or r["numpy"] for r in app)
    verdict = "within" if app_best <= BUDGET_MS else "OVER"
    print(
        f"API app import, {RUNS} fresh processes, cpu: best {app_best:6.1f} ms  "
        f"median {app_median:6.1f} ms  ({verdict} the {BUDGET_MS} ms budget)"
    )
    print(
        f"baseline: import boto3 alone, cpu          : best {base_best:6.1f} ms  "
        f"median {base_median:6.1f} ms"
    )
    print(f"ratio app / boto3 (best)                   : {app_best / base_best:6.2f}x")
    print(f"pandas or numpy imported by the API        : {'YES (regression)' if heavy else 'no'}")
