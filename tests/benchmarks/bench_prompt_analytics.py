"""Prompt analytics: what recording a suggest adds to the suggest request, and what one
analytics report costs.

Per request, against the ranking alone measured in the same run: ranking + recording as the
route does it (the PutItem queued on the background writer; the writer is drained between
requests, outside the timing, as request spacing would), and, for comparison, the PutItem
awaited in the request (what a synchronous write would add). In-process moto: the PutItem figure
is botocore's client-side pipeline plus moto's handling, no network; a real DynamoDB PutItem
adds its round trip. The report figure reads a window of ``N_REPORT`` stored suggests (a third
followed by runs) and aggregates it.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

from moto import mock_aws

from infrastructure import resources
from quantdesk import aws
from quantdesk.prompt_analytics.models import Card, Choice
from quantdesk.prompt_analytics.report import build_report
from quantdesk.prompt_analytics.store import PromptLog
from quantdesk.ranking.engine import suggest
from quantdesk.ranking.models import SuggestRequest
from quantdesk.ranking.settings import RankingSettings
from tests.unit.ranking.labelled import load

N_SUGGESTS = 300
N_REPORT = 1000


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(
    calls: int, run: Callable[[int], object], between: Callable[[], object] = lambda: None
) -> list[float]:
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        run(i)
        samples.append((time.perf_counter() - started) * 1000)
        between()
    return samples


def _line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<28} p50 {statistics.median(samples):6.3f} ms  "
        f"p95 {_percentile(samples, 0.95):6.3f} ms"
    )


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.pop("LOCALSTACK_HOST", None)
    aws.reset()
    settings = RankingSettings()
    prompts = [p["prompt"] for p in load()]
    for prompt in prompts:  # warm: the catalogue index is built on the first suggest
        suggest(SuggestRequest(prompt=prompt), settings)
    with mock_aws():
        aws.client("dynamodb").create_table(**resources.TABLE.create_kwargs())
        log = PromptLog(resources.TABLE.name)
        log.record_suggest("warm", prompt="p", prompt_hash="h", no_match=True, cards=[])

        def rank(i: int) -> object:
            return suggest(SuggestRequest(prompt=prompts[i % len(prompts)]), settings)

        def cards(i: int) -> list[Card]:
            return [
                Card(rank=s.rank, scenario_id=s.scenario_id, score=s.score, params=s.params)
                for s in suggest(
                    SuggestRequest(prompt=prompts[i % len(prompts)]), settings
                ).suggestions
            ]

        def rank_and_record(i: int) -> object:
            return log.record_suggest(
                "bench",
                prompt=prompts[i % len(prompts)],
                prompt_hash="h",
                no_match=False,
                cards=cards(i),
            )

        def rank_and_wait(i: int) -> object:
            log.record_suggest(
                "bench",
                prompt=prompts[i % len(prompts)],
                prompt_hash="h",
                no_match=False,
                cards=cards(i),
            )
            log.flush()
            return None

        ranking = _timed(N_SUGGESTS, rank)
        recorded = _timed(N_SUGGESTS, rank_and_record, between=log.flush)
        awaited = _timed(N_SUGGESTS, rank_and_wait)
        print(_line("ranking alone (baseline)", ranking))
        print(_line("ranking + queued write", recorded))
        print(_line("ranking + awaited PutItem", awaited))
        for name, samples in (("queued", recorded), ("awaited", awaited)):
            added = statistics.median(samples) - statistics.median(ranking)
            ratio = statistics.median(samples) / statistics.median(ranking)
            print(f"{name} / ranking: p50 x{ratio:.2f} (+{added:.3f} ms)")

        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        for i in range(N_REPORT):
            at = start + dt.timedelta(minutes=10 * i)
            suggest_id = log.record_suggest(
                "report",
                prompt=f"prompt {i % 400}",
                prompt_hash="h",
                no_match=i % 7 == 0,
                cards=[Card(rank=1, scenario_id="trend_strength", score=0.6)],
                at=at,
            )
            if suggest_id and i % 3 == 0:
                choice = Choice(
                    run_id=f"{i:026d}", rank=1, scenario_id="trend_strength", at=at.isoformat()
                )
                log.record_choice("report", suggest_id, choice)
        started = time.perf_counter()
        end_ms = int((start + dt.timedelta(days=30)).timestamp() * 1000)
        records, _ = log.suggests("report", int(start.timestamp() * 1000), end_ms)
        statuses = log.run_statuses("report", [c.run_id for r in records for c in r.choices])
        read = time.perf_counter()
        report = build_report(records, statuses, from_date="2024-01-01", to_date="2024-01-30")
        done = time.perf_counter()
        print(
            f"report over {report.prompts} suggests ({report.followed} followed): read "
            f"{(read - started) * 1000:.0f} ms (Query pages + BatchGetItem), aggregate "
            f"{(done - read) * 1000:.0f} ms"
        )
    aws.reset()


if __name__ == "__main__":
    main()
