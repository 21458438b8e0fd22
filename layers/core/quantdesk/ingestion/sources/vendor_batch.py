"""What an online vendor source collects, one request (symbol, company, file) at a time.

Each request is fetched and parsed whole or not at all:

* a vendor still answering 429/5xx (or nothing) after the HTTP client's retries is reported as a
  ``vendor_unavailable`` issue naming the dataset and the vendor's identifier, and the other
  requests and datasets go on; after ``MAX_CONSECUTIVE_UNAVAILABLE`` such failures in a row for
  one dataset its remaining requests are skipped (counted in one issue) rather than hammering
  a vendor that is down;
* once ``budget_s`` has passed, the rest are skipped too (counted in one issue) so the fetch
  ends inside its Lambda's timeout; the next run fetches them (fetches are incremental);
* a refusal (another 4xx: unknown ticker, bad key) is a ``vendor_refused`` issue;
* a payload that cannot be parsed whole is a ``malformed_payload`` issue and the payload, as
  received, goes to the quarantine zone (``Batch.rejected``): none of its rows are written.

When no request was answered at all and some found the vendor unavailable, the whole source
raises :class:`SourceUnavailableError` so the state machine retries it (and, failing that,
reports this one source as failed while the other sources carry on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from quantdesk.ingestion.errors import (
    MalformedPayloadError,
    SourceConfigError,
    SourceUnavailableError,
)
from quantdesk.ingestion.sources.base import Batch, FileIssue, capped

MAX_CONSECUTIVE_UNAVAILABLE: Final = 3
MAX_DETAIL: Final = 300


@dataclass
class VendorBatch:
    source: str
    budget_s: float = float("inf")
    clock: Callable[[], float] = time.monotonic
    frames: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    issues: list[FileIssue] = field(default_factory=list)
    rejected: dict[str, bytes] = field(default_factory=dict)
    answered: int = 0
    unavailable: int = 0
    #: (dataset, why) -> identifiers of the requests not sent
    skipped: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: dataset -> requests that found the vendor unavailable, in a row
    _in_a_row: dict[str, int] = field(default_factory=dict)
    _started: float | None = None

    def vendor_down(self, dataset: str) -> bool:
        return self._in_a_row.get(dataset, 0) >= MAX_CONSECUTIVE_UNAVAILABLE

    def attempt(
        self,
        dataset: str,
        ident: str,
        call: Callable[[], pd.DataFrame | None],
        *,
        keep: bool = True,
    ) -> pd.DataFrame | None:
        """Run one fetch-and-parse; keep its frame (unless ``keep`` is false) or record why
        not. ``ident`` is the vendor's identifier of the request (``stooq aapl.us``,
        ``edgar companyfacts CIK0000320193``)."""
        now = self.clock()
        self._started = now if self._started is None else self._started
        if self.vendor_down(dataset) or now - self._started > self.budget_s:
            why = "vendor_unavailable" if self.vendor_down(dataset) else "time_budget"
            self.skipped.setdefault((dataset, why), []).append(ident)
            return None
        try:
            frame = call()
        except SourceUnavailableError as exc:
            self.unavailable += 1
            self._in_a_row[dataset] = self._in_a_row.get(dataset, 0) + 1
            self._issue(dataset, ident, "vendor_unavailable", str(exc))
            return None
        except SourceConfigError as exc:
            self._answered(dataset)
            self._issue(dataset, ident, "vendor_refused", str(exc))
            return None
        except MalformedPayloadError as exc:
            self._answered(dataset)
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in ident)
            self.rejected[f"{dataset}-{name}"] = exc.payload
            self._issue(dataset, ident, "malformed_payload", str(exc))
            return None
        self._answered(dataset)
        if keep and frame is not None and len(frame):
            self.frames.setdefault(dataset, []).append(frame)
        return frame

    def batch(
        self, metadata: dict[str, Any], extras: dict[str, pd.DataFrame] | None = None
    ) -> Batch:
        if self.answered == 0 and self.unavailable:
            raise SourceUnavailableError(
                f"{self.source}: no request answered ({self.issues[0].detail})"
            )
        issues = list(self.issues)
        for (dataset, why), idents in self.skipped.items():
            after = (
                f"{MAX_CONSECUTIVE_UNAVAILABLE} failures in a row"
                if why == "vendor_unavailable"
                else f"the {self.budget_s:.0f} s fetch budget"
            )
            issues.append(
                FileIssue(
                    file=f"{self.source} ({len(idents)} requests)",
                    reason=f"skipped_{why}",
                    detail=f"not fetched after {after}: " + ", ".join(idents[:20]),
                    dataset=dataset,
                )
            )
        return Batch(
            source=self.source,
            frames={d: pd.concat(f, ignore_index=True) for d, f in self.frames.items()},
            extras=extras or {},
            metadata=metadata,
            issues=capped(issues, "requests"),
            rejected=self.rejected,
        )

    def _answered(self, dataset: str) -> None:
        self.answered += 1
        self._in_a_row[dataset] = 0

    def _issue(self, dataset: str, ident: str, reason: str, detail: str) -> None:
        self.issues.append(
            FileIssue(file=ident, reason=reason, detail=detail[:MAX_DETAIL], dataset=dataset)
        )
