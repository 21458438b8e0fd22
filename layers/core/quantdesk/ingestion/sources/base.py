"""The one interface every source implements."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import pandas as pd

    from quantdesk.datalake.repository import LakeObjectStore


class FetchRequest(BaseModel):
    """What to fetch: the source's input in the state machine's Map item."""

    model_config = ConfigDict(extra="forbid")

    source: str
    datasets: list[str] | None = Field(None, description="restrict to these datasets")
    prefix: str | None = Field(None, description="landing prefix in the data bucket (files)")
    options: dict[str, Any] = Field(default_factory=dict)


class FileIssue(BaseModel):
    """A whole input file or vendor answer that could not be read (empty, malformed,
    unrecognised columns, vendor unavailable); ``file`` names it by the vendor's identifiers."""

    file: str
    reason: str
    detail: str = ""
    dataset: str | None = Field(None, description="the dataset it would have fed, when known")


@dataclass
class Batch:
    """What a source fetched, mapped to the canonical dataset columns (not yet validated).

    ``extras`` are kept in the raw zone only (e.g. unadjusted prices, corporate actions);
    ``rejected`` vendor payloads (name -> bytes as received) go to the quarantine zone unread.
    """

    source: str
    frames: dict[str, pd.DataFrame]
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    issues: list[FileIssue] = field(default_factory=list)
    rejected: dict[str, bytes] = field(default_factory=dict)


class Source(Protocol):
    """A data vendor adapter."""

    name: str

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        """Fetch the datasets asked for (``landing`` gives the files source its inputs)."""
        ...

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        """A cheap identity of what ``fetch`` would return, or None when it cannot be known
        without fetching (online vendors). Equal fingerprints let re-runs skip the work."""
        ...


def fingerprint_of(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


#: issues travelling through the workflow per source (Step Functions payloads are small)
MAX_ISSUES: Final = 100


def capped(issues: list[FileIssue], what: str) -> list[FileIssue]:
    """At most MAX_ISSUES entries; the rest (``what``: files, requests) counted in one more."""
    if len(issues) <= MAX_ISSUES:
        return issues
    rest = len(issues) - MAX_ISSUES
    reasons = sorted({i.reason for i in issues[MAX_ISSUES:]})
    summary = FileIssue(
        file=f"(+{rest} more {what})", reason="more_issues", detail=", ".join(reasons)
    )
    return [*issues[:MAX_ISSUES], summary]
