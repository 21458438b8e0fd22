"""The diff of two results of one watch: which rows entered and left, which moved
``rank_threshold`` places or more, and which values crossed a threshold.

A result's rows are in rank order (the first row ranks 1) and keyed by their first text column
(``symbol`` for the per-asset scenarios, ``pair`` for pairs); rows without a key are ignored.
"""

from __future__ import annotations

import math
from typing import Any

from quantdesk.watches.models import Crossing, RankMove, ResultDiff, Threshold


def key_column(result: dict[str, Any]) -> str:
    columns = result.get("columns") or []
    text = [c["name"] for c in columns if c.get("kind") == "text"]
    return text[0] if text else (columns[0]["name"] if columns else "")


def _ranked(result: dict[str, Any], key: str) -> dict[str, tuple[int, dict[str, Any]]]:
    ranked: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, row in enumerate(result.get("rows") or []):
        value = row.get(key)
        if value is not None and str(value) not in ranked:
            ranked[str(value)] = (index + 1, row)
    return ranked


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _crossing(key: str, threshold: Threshold, before: Any, after: Any) -> Crossing | None:
    old, new = _number(before), _number(after)
    if old is None or new is None:
        return None
    if old < threshold.value <= new:
        direction = "up"
    elif new < threshold.value <= old:
        direction = "down"
    else:
        return None
    return Crossing(
        key=key,
        column=threshold.column,
        threshold=threshold.value,
        before=old,
        after=new,
        direction=direction,
    )


def diff_results(
    previous: dict[str, Any],
    current: dict[str, Any],
    *,
    rank_threshold: int,
    thresholds: list[Threshold],
) -> ResultDiff:
    key = key_column(current) or key_column(previous)
    before, after = _ranked(previous, key), _ranked(current, key)
    moves = [
        RankMove(key=k, from_rank=before[k][0], to_rank=rank)
        for k, (rank, _) in after.items()
        if k in before and abs(before[k][0] - rank) >= rank_threshold
    ]
    crossings = [
        crossing
        for k, (_, row) in after.items()
        if k in before
        for threshold in thresholds
        if (
            crossing := _crossing(
                k, threshold, before[k][1].get(threshold.column), row.get(threshold.column)
            )
        )
    ]
    return ResultDiff(
        key_column=key,
        entries=[k for k in after if k not in before],
        exits=[k for k in before if k not in after],
        rank_moves=moves,
        crossings=crossings,
    )


def describe(diff: ResultDiff) -> str:
    """One line for the inbox, the email subject and the webhook's ``summary``."""
    parts = []
    if diff.entries:
        parts.append(f"{len(diff.entries)} new ({', '.join(diff.entries[:5])})")
    if diff.exits:
        parts.append(f"{len(diff.exits)} gone ({', '.join(diff.exits[:5])})")
    if diff.rank_moves:
        parts.append(f"{len(diff.rank_moves)} rank moves")
    if diff.crossings:
        parts.append(f"{len(diff.crossings)} threshold crossings")
    return "; ".join(parts) or "no change"
