"""Live streaming against the local stack (started here, as the ``stack`` fixture does).

* DynamoDB write -> client receipt, 50 subscribers on one run: the bench writes progress to
  the run item (as the worker does) and times each event's arrival at every subscriber
  (stream poller -> projector -> event item -> per-run tail -> SSE). Goal p95 <= 250 ms.
* POST /analysis/run -> first SSE event, one fresh run at a time. Goal p95 <= 300 ms.
* Baselines measured in the same run: a plain GetItem round trip (the floor of one hop) and
  the naive design, 50 per-connection pollers each querying every poll interval.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from quantdesk import aws
from quantdesk.runs import tokens
from quantdesk.runs.models import Progress
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.stack import Stack, running_stack
from tests.unit.stream.run_writer import mark_running, queued_run

SUBSCRIBERS = 50
WRITES = 30
WRITE_GAP_S = 0.1
FIRST_EVENT_RUNS = 12
LOCAL_OWNER = "local"
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return f"p50 {pct(values, 50):6.1f} ms   p95 {pct(values, 95):6.1f} ms   (n={len(values)})"


@contextmanager
def pointed_at(stack: Stack) -> Iterator[None]:
    environment = {"LOCALSTACK_HOST": stack.aws_endpoint} | stack.environment()
    os.environ.update(environment)
    aws.reset()
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name in environment:
            os.environ.pop(name, None)
        aws.reset()
        get_settings.cache_clear()


def open_run(run_id: str) -> tuple[Any, str]:
    """A run written as the API and the state machine write it, left running; its stream URL
    path with a token."""

    settings = get_settings()
    repo = RunRepository(settings.table_name)
    repo.create(queued_run(run_id, LOCAL_OWNER, scenario_id="bench", now="2026-01-01T00:00:00Z"))
    mark_running(repo, run_id)
    token = tokens.issue(tokens.signing_key(settings.stream_secret_name), run_id, LOCAL_OWNER)
    return repo, f"/runs/{run_id}/stream?token={token}"


def write_progress(repo: Any, run_id: str, step: int) -> None:
    progress = Progress(step="bench", percent=min(99.0, step), message=str(step))
    repo.record_progress(run_id, progress, "2026-01-01T00:00:00Z")


# -- 1. write -> receipt with 50 subscribers --------------------------------------------------


async def fan_out_latency(stack: Stack) -> tuple[list[float], dict[str, Any]]:
    run_id = f"bench{time.time_ns() % 10**21:021d}"
    repo, path = await asyncio.to_thread(open_run, run_id)
    written: dict[int, float] = {}
    received: list[dict[int, float]] = [{} for _ in range(SUBSCRIBERS)]
    ready = asyncio.Event()
    connected = 0

    async def subscriber(http: httpx.AsyncClient, index: int) -> None:
        nonlocal connected
        async with aconnect_sse(http, "GET", stack.base_url + path) as source:
            async for message in source.aiter_sse():
                if not message.data:
                    continue
                seq = int(message.id)
                received[index][seq] = time.perf_counter()
                if seq == 2:
                    connected += 1
                    if connected == SUBSCRIBERS:
                        ready.set()
                if message.event == "status" and seq > 2:
                    return

    stored: dict[int, float] = {}
    stop_probe = threading.Event()

    def probe() -> None:
        """When each event item becomes visible in the table (the projector's share)."""
        after = 2
        while not stop_probe.is_set():
            for event in repo.events_after(run_id, after):
                stored[event.seq] = time.perf_counter()
                after = event.seq
            stop_probe.wait(0.01)

    limits = httpx.Limits(max_connections=SUBSCRIBERS + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        tasks = [asyncio.create_task(subscriber(http, i)) for i in range(SUBSCRIBERS)]
        await asyncio.wait_for(ready.wait(), 30)
        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        before = (await http.get(f"{stack.base_url}/runs/_stats")).json()
        started = time.perf_counter()
        for step in range(WRITES):
            seq = 3 + step
            written[seq] = time.perf_counter()
            await asyncio.to_thread(write_progress, repo, run_id, step)
            await asyncio.sleep(WRITE_GAP_S)
        await asyncio.to_thread(repo.finish, run_id, "succeeded", "2026-01-01T00:00:01Z")
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        elapsed = time.perf_counter() - started
        after = (await http.get(f"{stack.base_url}/runs/_stats")).json()
        stop_probe.set()
        prober.join(timeout=5)
    latencies = [
        (seen[seq] - written[seq]) * 1000 for seen in received for seq in written if seq in seen
    ]
    missing = SUBSCRIBERS * len(written) - len(latencies)
    load = {
        "queries_per_s": (after["queries"] - before["queries"]) / elapsed,
        "poll_interval_ms": after["poll_interval_ms"],
        "missing": missing,
        "stored": [(stored[seq] - written[seq]) * 1000 for seq in written if seq in stored],
    }
    return latencies, load


# -- 2. POST run -> first event ---------------------------------------------------------------


async def first_event_latency(stack: Stack) -> list[float]:
    samples = []
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as http:
        for _ in range(FIRST_EVENT_RUNS):
            started = time.perf_counter()
            response = await http.post(
                "/analysis/run", json={"scenario_id": "trend_strength", "fresh": True}
            )
            url = response.json()["stream_url"]
            first = None
            async with aconnect_sse(http, "GET", url) as source:
                async for message in source.aiter_sse():
                    if message.data and first is None:
                        first = time.perf_counter()
                        samples.append((first - started) * 1000)
                    if message.event == "status" and json.loads(message.data)["status"] in TERMINAL:
                        break  # followed to the end so runs do not pile up on the CPU
    return samples


# -- 3. baselines -----------------------------------------------------------------------------


def getitem_round_trip(repo: Any, run_id: str, count: int = 200) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        repo.get(run_id)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def naive_polling(repo: Any, run_id: str, interval_s: float) -> tuple[list[float], float]:
    """The pre-fan-out design: every viewer queries the table itself every interval."""
    stop = threading.Event()
    seen: list[dict[int, float]] = [{} for _ in range(SUBSCRIBERS)]
    queries = [0] * SUBSCRIBERS

    def viewer(index: int) -> None:
        after = 0
        while not stop.is_set():
            for event in repo.events_after(run_id, after):
                seen[index].setdefault(event.seq, time.perf_counter())
                after = event.seq
            queries[index] += 1
            stop.wait(interval_s)

    threads = [threading.Thread(target=viewer, args=(i,), daemon=True) for i in range(SUBSCRIBERS)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    written: dict[int, float] = {}
    start_seq = repo.get(run_id).event_seq + 1
    started = time.perf_counter()
    for step in range(10):
        written[start_seq + step] = time.perf_counter()
        write_progress(repo, run_id, step)
        time.sleep(WRITE_GAP_S * 2)
    time.sleep(1.0)
    stop.set()
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join(timeout=5)
    latencies = [(s[q] - t) * 1000 for s in seen for q, t in written.items() if q in s]
    return latencies, sum(queries) / (elapsed + 0.5)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with running_stack(Path(tmp) / "stack.log") as stack, pointed_at(stack):
            print(f"local stack up in {time.perf_counter() - started:.1f}s", flush=True)
            latencies, load = asyncio.run(fan_out_latency(stack))
            first = asyncio.run(first_event_latency(stack))
            run_id = f"naive{time.time_ns() % 10**21:021d}"
            repo, _ = open_run(run_id)
            rtt = getitem_round_trip(repo, run_id)
            naive, naive_qps = naive_polling(repo, run_id, load["poll_interval_ms"] / 1000)

    interval = load["poll_interval_ms"]
    print(f"poll interval (per-run tail)                 : {interval} ms")
    print(f"write -> receipt, {SUBSCRIBERS} subscribers, one run   : {summary(latencies)}")
    print(f"  goal p95 <= 250 ms                         : {_verdict(pct(latencies, 95), 250)}")
    print(f"  of which write -> event item stored        : {summary(load['stored'])}")
    print(f"  events missing at any subscriber           : {load['missing']}")
    print(f"  table queries while streaming              : {load['queries_per_s']:.0f}/s")
    print(f"POST /analysis/run -> first SSE event        : {summary(first)}")
    print(f"  goal p95 <= 300 ms                         : {_verdict(pct(first, 95), 300)}")
    print(f"baseline: GetItem round trip                 : {summary(rtt)}")
    print(f"baseline: {SUBSCRIBERS} naive pollers, write -> seen    : {summary(naive)}")
    print(f"  table queries (naive)                      : {naive_qps:.0f}/s")
    ratio = naive_qps / max(load["queries_per_s"], 1e-9)
    print(f"  query load naive / tail                    : {ratio:.0f}x")


def _verdict(value: float, goal: float) -> str:
    return f"{'met' if value <= goal else 'MISSED'} ({value:.0f} ms)"


if __name__ == "__main__":
    main()
