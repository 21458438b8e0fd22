"""Fetching a vendor item by item (a series, a symbol) so one bad item does not sink the rest.

An item the vendor keeps refusing (429/5xx/unreachable after the client's retries, or a 4xx) or
answers with a :class:`MalformedPayload` becomes a :class:`FileIssue` naming the vendor's own
identifier, and none of its rows are kept; the others load. Only when *every* item was refused
does the fetch raise (a :class:`SourceUnavailableError` is then retried by the state machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import pandas as pd

from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError
from quantdesk.ingestion.sources.base import FileIssue

Item = TypeVar("Item")
DETAIL_CHARS = 300


class MalformedPayload(ValueError):
    """The answer is not the vendor's documented shape: kept out of the lake, reported."""


def fetch_each(
    items: Iterable[Item],
    fetch_one: Callable[[Item], pd.DataFrame | None],
    identify: Callable[[Item], str],
) -> tuple[list[pd.DataFrame], list[FileIssue]]:
    """``fetch_one`` on every item (None = nothing new); issues for the items that failed."""
    frames: list[pd.DataFrame] = []
    issues: list[FileIssue] = []
    refused: list[Exception] = []
    count = 0
    for item in items:
        count += 1
        try:
            frame = fetch_one(item)
        except (SourceUnavailableError, SourceConfigError) as exc:
            refused.append(exc)
            issues.append(_issue(identify(item), "vendor_unavailable", exc))
            continue
        except MalformedPayload as exc:
            issues.append(_issue(identify(item), "malformed_payload", exc))
            continue
        if frame is not None:
            frames.append(frame)
    if refused and len(refused) == count:
        raise refused[0]
    return frames, issues


def _issue(identifier: str, reason: str, exc: Exception) -> FileIssue:
    return FileIssue(file=identifier, reason=reason, detail=str(exc)[:DETAIL_CHARS])
