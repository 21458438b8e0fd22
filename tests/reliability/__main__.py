"""``make reliability``: inject each fault into a running local stack and print one table.

For every fault: did the run end as it should, events its viewer lost or saw twice, and the
time from the fault to the viewer's terminal event. One stack serves every fault but the kill
(it is started with ``QD_LOCAL_FAULTS=1`` and a 2-second sweep so the sweeper's row does not
take five minutes); the SIGKILL row needs the durable local cloud and says so while it is
missing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from tests.reliability.faults import FAULTS, Row
from tests.reliability.kill import local_cloud_sigkill_mid_run
from tests.stack import TEST_ENV, running_stack

STACK_ENV = {
    **TEST_ENV,
    "QD_LOCAL_FAULTS": "1",
    "QD_LOCAL_RULE_EVERY_S": "2",
    "QD_SWEEP_QUEUED_AFTER_S": "5",
}


def table(rows: list[Row]) -> str:
    header = ("fault injected", "run ended correctly", "lost", "dup", "recover", "notes")
    cells = [
        (
            r.fault,
            r.ended,
            "-" if r.lost is None else str(r.lost),
            "-" if r.duplicated is None else str(r.duplicated),
            "-" if r.recover_s is None else f"{r.recover_s:.1f}s",
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def main() -> int:
    os.environ.update({k: v for k, v in STACK_ENV.items() if k.startswith("QD_SWEEP")})
    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        with (
            running_stack(Path(tmp) / "stack.log", extra_env=STACK_ENV) as stack,
            httpx.Client(base_url=stack.base_url, timeout=120) as client,
        ):
            for fault in FAULTS:
                rows.append(_attempt(fault.__name__, partial(fault, stack, client)))
        kill = partial(local_cloud_sigkill_mid_run, Path(tmp))
        rows.append(_attempt("local cloud SIGKILL mid-run", kill))
    print(table(rows))
    print(f"({time.perf_counter() - started:.0f}s)")
    failed = [r for r in rows if r.ended.startswith(("NO", "ERROR"))]
    return 1 if failed else 0


def _attempt(name: str, run: Callable[[], Row]) -> Row:
    try:
        return run()
    except Exception as exc:
        traceback.print_exc()
        return Row(name.replace("_", " "), f"ERROR: {type(exc).__name__}: {exc}"[:80])


if __name__ == "__main__":
    sys.exit(main())
