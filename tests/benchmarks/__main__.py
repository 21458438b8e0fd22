"""`make bench`: runs every ``tests/benchmarks/bench_*.py`` module's ``main()`` in turn.

Each benchmark prints its figures and the ratio against a baseline measured in the same run.
``python -m tests.benchmarks NAME`` runs only ``bench_NAME``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(selected: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected]
    for name in names:
        print(f"\n=== {name.removeprefix('bench_')} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"tests.benchmarks.{name}").main()
        print(f"({time.perf_counter() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
