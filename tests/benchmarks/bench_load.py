"""Load on the local stack: many runs started at once, each followed by several viewers.

``RUNS`` concurrent ``POST /analysis/run`` (no idempotency key, so each is a new run), and as
soon as each answers, ``VIEWERS`` SSE connections follow that run to its terminal event.
Printed: start latency percentiles (goal p95 <= 500 ms), runs/s, time from the first start to
the last terminal event, and events lost and duplicated across every viewer (each viewer must
see exactly the run's sequence numbers 1..final). Baseline measured in the same run: one run
alone (start latency and time to its terminal event), the floor the concurrent runs approach.

The client is aiohttp (C-accelerated HTTP parsing): it shares the machine's cores with the
stack, and with httpx the client alone took a third of two cores while the starts were answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from tests.benchmarks.bench_streaming import TERMINAL, pct
from tests.stack import Stack, running_stack

RUNS = int(os.environ.get("QD_LOAD_RUNS", "100"))
VIEWERS = int(os.environ.get("QD_LOAD_VIEWERS", "5"))
START_P95_GOAL_MS = 500
#: fresh: every run computes (an identical request is otherwise answered from the result cache)
REQUEST = {"scenario_id": "trend_strength", "params": {}, "fresh": True}


@dataclass
class RunOutcome:
    start_ms: float
    #: seconds from the benchmark's start to the run's terminal event at its last viewer
    ended_s: float = 0.0
    final_seq: int = 0
    status: str = ""
    viewers: list[list[int]] = field(default_factory=list)

    def lost(self) -> int:
        expected = set(range(1, self.final_seq + 1))
        return sum(len(expected - set(seen)) for seen in self.viewers)

    def duplicated(self) -> int:
        return sum(len(seen) - len(set(seen)) for seen in self.viewers)


async def view(http: aiohttp.ClientSession, url: str, began: float) -> tuple[list[int], float, str]:
    """Follow one run to its terminal event: (seqs received, when it ended, final status)."""
    seqs: list[int] = []
    fields: dict[str, str] = {}
    async with http.get(url) as response:
        response.raise_for_status()
        async for raw in response.content:  # one line at a time
            line = raw.decode().rstrip("\r\n")
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            event, fields = fields, {}  # a blank line ends an event
            if not event.get("data"):
                continue  # a heartbeat comment
            seqs.append(int(event["id"]))
            data = json.loads(event["data"])
            if event.get("event") == "status" and data["status"] in TERMINAL:
                return seqs, time.perf_counter() - began, data["status"]
    return seqs, time.perf_counter() - began, "stream ended early"


async def one_run(
    http: aiohttp.ClientSession, base_url: str, began: float, viewers: int
) -> RunOutcome:
    started = time.perf_counter()
    async with http.post(f"{base_url}/analysis/run", json=REQUEST) as response:
        response.raise_for_status()  # before the body: an error's may not be JSON
        body = await response.json()
        outcome = RunOutcome(start_ms=(time.perf_counter() - started) * 1000)
    url = urljoin(base_url, body["stream_url"])
    watched = await asyncio.gather(*(view(http, url, began) for _ in range(viewers)))
    outcome.viewers = [seqs for seqs, _, _ in watched]
    outcome.ended_s = max(ended for _, ended, _ in watched)
    outcome.status = watched[0][2]
    outcome.final_seq = max((max(seqs) for seqs in outcome.viewers if seqs), default=0)
    return outcome


def session() -> aiohttp.ClientSession:
    """The load's client: a connection per request (as many browsers), no pool limit."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600))


async def load(stack: Stack, runs: int, viewers: int) -> tuple[list[RunOutcome], float]:
    async with session() as http:
        began = time.perf_counter()
        outcomes = await asyncio.gather(
            *(one_run(http, stack.base_url, began, viewers) for _ in range(runs))
        )
        return list(outcomes), time.perf_counter() - began


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its live descendants (the stack and its worker
    processes): on a shared machine the honest cost of the work, whatever the wall clock."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        pending += [int(child) for child in children]
    return total


def report(label: str, outcomes: list[RunOutcome], elapsed: float, cpu_s: float) -> None:
    starts = [o.start_ms for o in outcomes]
    statuses = sorted({o.status for o in outcomes})
    print(f"{label}: {len(outcomes)} runs x {len(outcomes[0].viewers)} viewers")
    print(
        f"  POST /analysis/run      p50 {pct(starts, 50):7.1f} ms  p95 {pct(starts, 95):7.1f} ms"
        f"  max {max(starts):7.1f} ms"
    )
    print(f"  last terminal event     {max(o.ended_s for o in outcomes):7.1f} s after the start")
    print(f"  runs/s                  {len(outcomes) / elapsed:7.2f}")
    print(f"  final statuses          {', '.join(statuses)}")
    print(f"  events lost             {sum(o.lost() for o in outcomes)}")
    print(f"  events duplicated       {sum(o.duplicated() for o in outcomes)}")
    print(f"  stack CPU per run       {cpu_s / len(outcomes) * 1000:7.0f} ms")


async def floor(stack: Stack, requests: int) -> list[float]:
    """``requests`` concurrent no-op requests (``GET /healthz``) from this client: what the
    machine, the client and the origin cost before the product does anything."""
    async with session() as http:

        async def one() -> float:
            started = time.perf_counter()
            async with http.get(f"{stack.base_url}/healthz") as response:
                response.raise_for_status()
                await response.read()
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(one() for _ in range(requests))))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp) / "stack.log") as stack:
        # warm-up: the first run pays the workers' cold start (imports), as on Lambda
        asyncio.run(load(stack, 1, 1))
        noop = asyncio.run(floor(stack, RUNS))
        cpu_before = cpu_seconds(stack.pid)
        single, single_elapsed = asyncio.run(load(stack, 1, VIEWERS))
        cpu_single = cpu_seconds(stack.pid) - cpu_before
        many, elapsed = asyncio.run(load(stack, RUNS, VIEWERS))
        cpu_many = cpu_seconds(stack.pid) - cpu_before - cpu_single
    print(
        f"baseline, {RUNS} concurrent GET /healthz: p50 {pct(noop, 50):7.1f} ms"
        f"  p95 {pct(noop, 95):7.1f} ms  (the machine's and the client's floor)"
    )
    report("baseline, one run alone", single, single_elapsed, cpu_single)
    report("under load", many, elapsed, cpu_many)
    p95 = pct([o.start_ms for o in many], 95)
    verdict = "met" if p95 <= START_P95_GOAL_MS else "MISSED"
    print(f"  goal start p95 <= {START_P95_GOAL_MS} ms   {verdict} ({p95:.0f} ms)")
    alone = single[0].ended_s
    print(f"  time per run under load / one run alone: {elapsed / len(many) / alone:.2f}x")


if __name__ == "__main__":
    main()
