"""The analytics report: pure aggregation of stored suggests (no I/O).

A suggest's *choice* is its first run (by time); later runs from the same suggest count for
outcomes and edited params, not for the rank statistics. Edited params compare the run's params
with the card's pre-filled ones, both normalised by the scenario's input model when it is known
(so a value sent equal to its default is no edit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from quantdesk.prompt_analytics.models import (
    AnalyticsReport,
    Choice,
    DayCount,
    EditedParam,
    LabelledPair,
    NotFirst,
    RankChoice,
    SuggestRecord,
)

MAX_EDITED: Final = 20
MAX_NOT_FIRST: Final = 100

#: (scenario_id, params) -> the params normalised by that scenario's model (as given if unknown)
Normalise = Callable[[str, Mapping[str, Any]], dict[str, Any]]


def _as_given(_scenario_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return dict(params)


def edited_params(
    choice: Choice, card_params: Mapping[str, Any], normalise: Normalise = _as_given
) -> list[str]:
    """The inputs whose run value differs from the card's pre-filled (or default) value."""
    ran = normalise(choice.scenario_id, choice.params)
    proposed = normalise(choice.scenario_id, card_params)
    return sorted(k for k in ran.keys() | proposed.keys() if ran.get(k) != proposed.get(k))


def build_report(
    records: Sequence[SuggestRecord],
    statuses: Mapping[str, str],
    *,
    from_date: str,
    to_date: str,
    truncated: bool = False,
    normalise: Normalise = _as_given,
) -> AnalyticsReport:
    per_day: dict[str, list[int]] = {}
    shown: Counter[int] = Counter()
    chosen: Counter[int] = Counter()
    edits: Counter[tuple[str, str]] = Counter()
    outcomes: Counter[str] = Counter()
    not_first: list[NotFirst] = []
    pairs: dict[str, LabelledPair] = {}
    followed = 0
    for record in records:
        day = per_day.setdefault(record.at[:10], [0, 0])
        day[0] += 1
        day[1] += record.no_match
        for card in record.cards:
            shown[card.rank] += 1
        runs = _unique_runs(record.choices)
        if not runs:
            continue
        followed += 1
        first = runs[0]
        chosen[first.rank] += 1
        by_rank = {card.rank: card for card in record.cards}
        for choice in runs:
            outcomes[statuses.get(choice.run_id, "unknown")] += 1
            card = by_rank.get(choice.rank)
            for name in edited_params(choice, card.params if card else {}, normalise):
                edits[(choice.scenario_id, name)] += 1
        if first.rank != 1 and record.cards:
            not_first.append(
                NotFirst(
                    suggest_id=record.suggest_id,
                    at=record.at,
                    prompt=record.prompt,
                    chosen_scenario_id=first.scenario_id,
                    chosen_rank=first.rank,
                    first_scenario_id=record.cards[0].scenario_id,
                )
            )
        pairs[record.prompt] = LabelledPair(
            prompt=record.prompt, top1=first.scenario_id, chosen_rank=first.rank, at=first.at
        )
    prompts = len(records)
    no_match = sum(r.no_match for r in records)
    return AnalyticsReport(
        from_date=from_date,
        to_date=to_date,
        prompts=prompts,
        no_match=no_match,
        no_match_rate=round(no_match / prompts, 4) if prompts else 0.0,
        followed=followed,
        per_day=[DayCount(date=d, prompts=n, no_match=m) for d, (n, m) in sorted(per_day.items())],
        choice_rate_by_rank=[
            RankChoice(
                rank=rank, shown=shown[rank], chosen=chosen[rank], rate=round(chosen[rank] / n, 4)
            )
            for rank, n in sorted(shown.items())
        ],
        most_edited_params=[
            EditedParam(scenario_id=scenario, param=param, edits=n)
            for (scenario, param), n in sorted(edits.items(), key=lambda e: (-e[1], e[0]))[
                :MAX_EDITED
            ]
        ],
        not_first=sorted(not_first, key=lambda n: n.at, reverse=True)[:MAX_NOT_FIRST],
        outcomes=dict(sorted(outcomes.items())),
        pairs=sorted(pairs.values(), key=lambda p: p.at),
        truncated=truncated,
    )


def _unique_runs(choices: Sequence[Choice]) -> list[Choice]:
    """The choices by time, one per run (an idempotent replay appends its run again)."""
    seen: dict[str, Choice] = {}
    for choice in sorted(choices, key=lambda c: c.at):
        seen.setdefault(choice.run_id, choice)
    return list(seen.values())
