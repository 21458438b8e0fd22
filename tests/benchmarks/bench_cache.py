"""The result cache on the local stack: what the lookup adds to ``POST /analysis/run``, and what
a hit saves.

One at a time, ``N`` requests of each kind, after a warm-up:
* ``fresh`` (``"fresh": true``: no lookup) - the baseline;
* ``miss`` (params no earlier run used: the lookup, then the normal start) - baseline + lookup;
* ``hit`` (an identical request on unchanged data) - answered by a cached run.
Printed: start latency p50/p95 of each, the miss/fresh ratio (the lookup's cost), and the time
to the terminal event of a computed run against a cached one.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

from tests.benchmarks.bench_streaming import pct
from tests.stack import running_stack

N = 15
BASE: dict[str, Any] = {"scenario_id": "trend_strength", "params": {}}


def start(http: httpx.Client, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    began = time.perf_counter()
    response = http.post("/analysis/run", json=body)
    response.raise_for_status()
    return (time.perf_counter() - began) * 1000, response.json()


def to_end(http: httpx.Client, body: dict[str, Any]) -> float:
    """Seconds from the POST to the terminal event."""
    began = time.perf_counter()
    accepted = http.post("/analysis/run", json=body).json()
    with connect_sse(http, "GET", accepted["stream_url"]) as source:
        for sse in source.iter_sse():
            if sse.event == "status" and '"succeeded"' in sse.data:
                break
    return time.perf_counter() - began


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp) / "stack.log") as stack,
        httpx.Client(base_url=stack.base_url, timeout=120) as http,
    ):
        computed = to_end(http, {**BASE, "fresh": True})  # warm-up, and the entry to hit
        computed = to_end(http, {**BASE, "fresh": True})
        cached = to_end(http, BASE)
        fresh = [start(http, {**BASE, "fresh": True})[0] for _ in range(N)]
        # each miss asks for another threshold: a request no earlier run made
        misses = [
            start(http, {**BASE, "params": {"adx_threshold": 20 + i / 2}})[0] for i in range(N)
        ]
        hits = []
        for _ in range(N):
            elapsed, accepted = start(http, BASE)
            assert accepted["cached"], accepted
            hits.append(elapsed)
    for name, samples in (("fresh (no lookup)", fresh), ("miss", misses), ("hit", hits)):
        p50, p95 = pct(samples, 50), pct(samples, 95)
        print(f"POST /analysis/run {name:<18} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    print(f"  lookup cost: miss / fresh p50 = {pct(misses, 50) / pct(fresh, 50):.2f}x")
    print(f"  hit / fresh p50 = {pct(hits, 50) / pct(fresh, 50):.2f}x")
    print(f"POST -> terminal event: computed {computed:.2f} s, cached {cached:.2f} s")
    print(f"  computed / cached: {computed / cached:.0f}x")


if __name__ == "__main__":
    main()
