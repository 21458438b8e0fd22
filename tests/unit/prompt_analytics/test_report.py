"""The analytics aggregation on hand-made records (pure: no AWS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quantdesk.prompt_analytics.models import Card, Choice, SuggestRecord
from quantdesk.prompt_analytics.report import build_report, edited_params


def record(
    suggest_id: str,
    at: str,
    prompt: str,
    cards: list[str],
    choices: list[Choice] = (),  # type: ignore[assignment]
    *,
    params: dict[str, Any] | None = None,
) -> SuggestRecord:
    return SuggestRecord(
        suggest_id=suggest_id,
        at=at,
        prompt=prompt,
        prompt_hash="h" + suggest_id,
        no_match=not cards,
        cards=[
            Card(rank=i, scenario_id=s, score=0.5, params=params or {})
            for i, s in enumerate(cards, 1)
        ],
        choices=list(choices),
    )


def choice(run_id: str, rank: int, scenario: str, at: str, **params: Any) -> Choice:
    return Choice(run_id=run_id, rank=rank, scenario_id=scenario, params=params, at=at)


RECORDS = [
    record("s1", "2024-05-01T10:00:00.000Z", "momentum", ["trend", "factor"],
           [choice("r1", 1, "trend", "2024-05-01T10:01:00.000Z")]),
    record("s2", "2024-05-01T11:00:00.000Z", "weather", []),
    record("s3", "2024-05-02T09:00:00.000Z", "dividend stocks", ["factor", "lowvol", "trend"],
           [choice("r2", 2, "lowvol", "2024-05-02T09:02:00.000Z", window=63),
            choice("r3", 1, "factor", "2024-05-02T09:05:00.000Z", window=21)],
           params={"window": 21}),
    record("s4", "2024-05-03T09:00:00.000Z", "momentum", ["trend", "factor"],
           [choice("r4", 2, "factor", "2024-05-03T09:01:00.000Z"),
            choice("r4", 2, "factor", "2024-05-03T09:01:00.000Z")]),  # an idempotent replay
    record("s5", "2024-05-03T10:00:00.000Z", "pairs", ["pairs"]),
]  # fmt: skip


def test_the_report_aggregates_prompts_choices_edits_and_outcomes() -> None:
    statuses = {"r1": "succeeded", "r2": "failed", "r3": "succeeded"}
    report = build_report(RECORDS, statuses, from_date="2024-05-01", to_date="2024-05-03")
    assert (report.prompts, report.no_match, report.no_match_rate) == (5, 1, 0.2)
    assert report.followed == 3
    assert [(d.date, d.prompts, d.no_match) for d in report.per_day] == [
        ("2024-05-01", 2, 1), ("2024-05-02", 1, 0), ("2024-05-03", 2, 0),
    ]  # fmt: skip
    # rank 1 shown in 4 suggests, chosen first in s1; rank 2 shown in 3, chosen first in s3, s4
    by_rank = {r.rank: (r.shown, r.chosen, r.rate) for r in report.choice_rate_by_rank}
    assert by_rank == {1: (4, 1, 0.25), 2: (3, 2, 0.6667), 3: (1, 0, 0.0)}
    # r2 changed the card's window (r3 kept it); the replayed r4 counts once; a run of no known
    # status is "unknown" (r4: the caller does not own it, or it was deleted)
    assert [(e.scenario_id, e.param, e.edits) for e in report.most_edited_params] == [
        ("lowvol", "window", 1),
    ]
    assert report.outcomes == {"failed": 1, "succeeded": 2, "unknown": 1}
    assert [(n.prompt, n.chosen_scenario_id, n.chosen_rank, n.first_scenario_id)
            for n in report.not_first] == [
        ("momentum", "factor", 2, "trend"), ("dividend stocks", "lowvol", 2, "factor"),
    ]  # fmt: skip
    # one pair per prompt, the newest choice winning ("momentum" was chosen twice)
    assert [(p.prompt, p.top1) for p in report.pairs] == [
        ("dividend stocks", "lowvol"), ("momentum", "factor"),
    ]  # fmt: skip


def test_an_empty_window_is_all_zeros() -> None:
    report = build_report([], {}, from_date="2024-05-01", to_date="2024-05-01")
    assert (report.prompts, report.no_match_rate, report.followed) == (0, 0.0, 0)
    assert report.per_day == report.choice_rate_by_rank == report.pairs == []


def test_edited_params_compare_normalised_values() -> None:
    defaults = {"window": 21, "universe": "us_large_cap"}

    def normalise(_scenario: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**defaults, **{k: v for k, v in params.items()}}

    sent_default = choice("r", 1, "s", "t", window=21, universe="us_large_cap")
    assert edited_params(sent_default, {}, normalise) == []
    changed = choice("r", 1, "s", "t", window=63, tickers=["AAPL"])
    assert edited_params(changed, {"tickers": ["AAPL"]}, normalise) == ["window"]
    dropped = choice("r", 1, "s", "t")
    assert edited_params(dropped, {"tickers": ["AAPL"]}, normalise) == ["tickers"]
