"""Ranking: accuracy on the labelled prompts, latency on a synthetic 10,000-scenario catalogue
against ``rank_bm25`` on the same corpus, and the suggest handler's fresh-process import time.

Targets (issue 3): top-3 >= 90 %, p95 <= 5 ms per query, import <= 150 ms without pandas/numpy.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from quantdesk.ranking.index import build_index, spec_fields
from quantdesk.ranking.lexicon import concept_words
from quantdesk.ranking.scorer import query_terms, score
from quantdesk.ranking.text import analyse
from tests.stack import ROOT
from tests.unit.ranking.labelled import evaluate, load, registered_catalogue

N_SCENARIOS = 10_000
N_QUERIES = 300
P95_BUDGET_MS = 5.0
IMPORT_BUDGET_MS = 150.0
IMPORT_RUNS = 9


@dataclass(frozen=True)
class SyntheticSpec:
    scenario_id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    deliverables: tuple[str, ...]
    methodology: str


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "sta", "vo", "qui", "dar", "pe", "tor", "lin", "zu"]
    made = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size)}
    return sorted(made | concept_words())


def synthetic_catalogue(n: int, seed: int = 7) -> list[SyntheticSpec]:
    """Deterministic specs whose words follow a Zipf-like law over a mixed finance vocabulary."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 4000)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    rng.shuffle(vocab)

    def text(k: int) -> str:
        return " ".join(rng.choices(vocab, weights=weights, k=k))

    return [
        SyntheticSpec(
            scenario_id=f"synthetic_{i:05d}",
            title=text(5),
            description=text(30),
            keywords=tuple(text(rng.randint(1, 2)) for _ in range(10)),
            deliverables=(text(10), text(10)),
            methodology=text(40),
        )
        for i in range(n)
    ]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def accuracy() -> None:
    catalogue = registered_catalogue()
    result = evaluate(catalogue)
    print(f"catalogue: {len(catalogue.specs)} scenarios registered: {', '.join(catalogue.specs)}")
    print(f"labelled prompts counted: {result.on_topic} on-topic, {result.off_topic} off-topic")
    print(
        f"top-1 accuracy: {result.top1_accuracy:.1%}   top-3 accuracy: {result.top3_accuracy:.1%}"
    )
    print(
        f"off-topic precision: {result.off_topic_precision:.1%}   "
        f"recall: {result.off_topic_recall:.1%}"
    )
    for miss in result.misses:
        print(f"  miss: {miss}")


def latency() -> None:
    specs = synthetic_catalogue(N_SCENARIOS)
    started = time.perf_counter()
    index = build_index(specs)
    build_s = time.perf_counter() - started
    rng = random.Random(11)
    labelled = [p["prompt"] for p in load()]
    words = sorted({w for s in specs[:200] for w in s.title.split()})
    queries = [rng.choice(labelled) for _ in range(N_QUERIES // 2)] + [
        " ".join(rng.sample(words, rng.randint(2, 6))) for _ in range(N_QUERIES - N_QUERIES // 2)
    ]
    ours = _timed(queries, lambda query: score(index, query_terms(index, query), 5))

    corpus = [[t.key for f in spec_fields(s).values() for t in analyse(f)] for s in specs]
    bm25 = BM25Okapi(corpus)

    def rank_bm25(query: str) -> None:
        scores = bm25.get_scores([t.key for t in query_terms(index, query)])
        np.argsort(-scores, kind="stable")[:5]

    theirs = _timed(queries, rank_bm25)
    print(f"synthetic catalogue: {N_SCENARIOS} scenarios, index built in {build_s:.1f} s")
    for name, (wall, cpu) in (("quantdesk BM25F", ours), ("rank_bm25 Okapi", theirs)):
        print(
            f"{name}  wall p50 {statistics.median(wall):.3f} ms  p95 {_percentile(wall, 0.95):.3f}"
            f" ms | cpu p50 {statistics.median(cpu):.3f} ms  p95 {_percentile(cpu, 0.95):.3f} ms"
        )
    print(f"(same corpus, same {len(queries)} queries; budget p95 <= {P95_BUDGET_MS} ms)")
    for clock, a, b in (("wall", ours[0], theirs[0]), ("cpu", ours[1], theirs[1])):
        p50 = statistics.median(b) / statistics.median(a)
        p95 = _percentile(b, 0.95) / _percentile(a, 0.95)
        print(f"ratio rank_bm25 / quantdesk ({clock}): p50 x{p50:.1f}  p95 x{p95:.1f}")
    for clock, samples in (("wall", ours[0]), ("cpu", ours[1])):
        if (p95 := _percentile(samples, 0.95)) > P95_BUDGET_MS:
            print(f"WARNING: {clock} p95 {p95:.3f} ms is over the {P95_BUDGET_MS} ms budget")


def _timed(queries: list[str], run: Callable[[str], object]) -> tuple[list[float], list[float]]:
    """Wall and CPU ms per query. On a shared, loaded machine the wall clock also counts the
    time other processes hold the CPU; CPU time is the cost of the query itself."""
    wall: list[float] = []
    cpu: list[float] = []
    for query in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        run(query)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return wall, cpu


_IMPORT_PROBE = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import {module}
wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
heavy = sorted(m for m in ("pandas", "numpy") if m in sys.modules)
t1, c1 = time.perf_counter(), time.process_time()
from quantdesk.ranking.engine import suggest
from quantdesk.ranking.models import SuggestRequest
from quantdesk.ranking.settings import RankingSettings
suggest(SuggestRequest(prompt="strongest trends in AAPL over 6 months"), RankingSettings())
first, first_cpu = (time.perf_counter() - t1) * 1000, (time.process_time() - c1) * 1000
print(json.dumps([wall, cpu, first, first_cpu, heavy]))
"""


def _compile_bytecode() -> None:
    """Write the .pyc files a deployed layer ships with. The shell may set
    PYTHONDONTWRITEBYTECODE, and then every fresh process would recompile each recently edited
    module from source: a cost of the checkout, not of the function."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "layers/core/quantdesk", "functions/api"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )


def _import_ms(modules: tuple[str, ...]) -> dict[str, tuple[list[float], list[str]]]:
    """Per module, medians over fresh processes of: import wall and CPU ms, then the first
    request's (which loads the specs and builds the index). The modules take turns, so a load
    spike hits them alike; CPU time is the fair figure on a shared, loaded machine, wall time
    also counts the other processes."""
    rows: dict[str, list[list[float]]] = {module: [] for module in modules}
    heavy: dict[str, list[str]] = {}
    for _ in range(IMPORT_RUNS):
        for module in modules:
            out = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE.format(module=module)],
                cwd=ROOT / "functions" / "api",
                capture_output=True,
                text=True,
                check=True,
            )
            *times, heavy[module] = json.loads(out.stdout)
            rows[module].append(times)
    return {
        module: ([statistics.median(c) for c in zip(*rows[module], strict=True)], heavy[module])
        for module in modules
    }


def import_time() -> None:
    _compile_bytecode()
    modules = ("quantdesk.ranking.engine", "chalicelib.routes.suggest", "app")
    for module, ((wall, cpu, first, first_cpu), heavy) in _import_ms(modules).items():
        note = f"pandas/numpy loaded: {heavy}" if heavy else "no pandas/numpy"
        print(
            f"fresh-process import {module:<26} wall {wall:6.1f} ms  cpu {cpu:6.1f} ms | "
            f"+ first request wall {first:5.1f} ms  cpu {first_cpu:5.1f} ms "
            f"(medians of {IMPORT_RUNS}; {note})"
        )
        if module == "chalicelib.routes.suggest":
            assert not heavy, f"the suggest handler imports {heavy}"
            if cpu > IMPORT_BUDGET_MS:
                print(f"WARNING: over the {IMPORT_BUDGET_MS:.0f} ms import budget")
    probe = (
        "import time; "
        "from quantdesk.ranking.engine import registry_catalogue, suggest; "
        "from quantdesk.ranking.models import SuggestRequest; "
        "from quantdesk.ranking.settings import RankingSettings; "
        "suggest(SuggestRequest(prompt='strongest trends'), RankingSettings()); "
        "t2 = time.perf_counter(); suggest(SuggestRequest(prompt='oversold'), RankingSettings()); "
        "t3 = time.perf_counter(); "
        "print(f'{(t3 - t2) * 1000:.2f}')"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    print(f"next (warm) request: {out.stdout.strip()} ms")


def main() -> None:
    load1 = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"machine load average (1 min): {load1}")
    accuracy()
    latency()
    import_time()


if __name__ == "__main__":
    main()
