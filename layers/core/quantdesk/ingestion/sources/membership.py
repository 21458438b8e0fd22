"""``membership``: universe membership from a list of dated changes, removed names kept.

The changes file (CSV, header case-insensitive) is one line per change::

    date,universe,symbol,change
    2019-01-02,us_large_cap,AAPL,added
    2019-01-02,us_large_cap,XYZ,added
    2021-06-18,us_large_cap,XYZ,removed     <- delisted / dropped: kept, with its end date
    2021-06-21,us_large_cap,NEW,added

``change`` is ``added`` or ``removed`` (``add``/``remove``, ``+``/``-`` too). The file starts
with the constituents on its first date as ``added``. Each (universe, symbol) becomes
membership intervals ``start_date`` (the add) to ``end_date`` (the remove, exclusive; empty while
a member), so point-in-time universes see names that later left. A remove without an open
membership, or an add while one is open, makes the whole file malformed: it is quarantined with
the offending line, and nothing of it is written.

Where the file comes from: ``options.url`` (fetched politely), else ``options.key`` or the
``QD_MEMBERSHIP_KEY`` setting, a key in the data bucket (upload it once and update it when the
index changes). The same file dropped in a folder ingests through ``--source files``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Final

import pandas as pd

from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.sources.base import Batch, FetchRequest, fingerprint_of
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.vendor_batch import VendorBatch
from quantdesk.ingestion.sources.vendor_settings import get_vendor_settings

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore

COLUMNS: Final = ("date", "universe", "symbol", "change")
ADDED: Final = frozenset({"added", "add", "+", "in"})
REMOVED: Final = frozenset({"removed", "remove", "-", "out"})


def is_changes(columns: set[str]) -> bool:
    return set(COLUMNS) <= columns


def to_intervals(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Changes (``date, universe, symbol, change[, _file, _line]``) -> universe rows
    (+ ``_file``, ``_line`` of the add); raises :class:`MalformedPayloadError` naming the
    first inconsistent line of ``origin``."""
    lines = frame["_line"] if "_line" in frame else pd.Series(frame.index + 2, index=frame.index)
    change = frame["change"].astype(str).str.strip().str.lower()
    unknown = ~change.isin(ADDED | REMOVED)
    if unknown.any():
        line = int(lines[unknown].iloc[0])
        raise MalformedPayloadError(f"{origin} line {line}: change must be added or removed", b"")
    work = pd.DataFrame(
        {
            "date": frame["date"].astype(str).str.strip(),
            "when": pd.to_datetime(frame["date"], errors="coerce"),
            "universe": frame["universe"].astype(str).str.strip(),
            "symbol": frame["symbol"].astype(str).str.strip().str.upper(),
            "added": change.isin(ADDED),
            "line": lines,
        }
    )
    if work["when"].isna().any():
        line = int(work.loc[work["when"].isna(), "line"].iloc[0])
        raise MalformedPayloadError(f"{origin} line {line}: unreadable date", b"")
    rows = []
    work = work.sort_values(["universe", "symbol", "when", "line"], kind="stable")
    for (universe, symbol), group in work.groupby(["universe", "symbol"], sort=False):
        start = None
        for change in group.itertuples():
            if change.added == (start is not None):
                what = "added while a member" if change.added else "removed while not a member"
                raise MalformedPayloadError(f"{origin} line {change.line}: {symbol} {what}", b"")
            if change.added:
                start = change
            else:
                assert start is not None
                rows.append((universe, symbol, start.date, change.date, start.line))
                start = None
        if start is not None:
            rows.append((universe, symbol, start.date, None, start.line))
    out = pd.DataFrame(rows, columns=["universe", "symbol", "start_date", "end_date", "_line"])
    out["_file"] = origin
    return out


def read_changes(origin: str, body: bytes) -> pd.DataFrame:
    """A changes CSV payload -> universe intervals; malformed -> the whole payload refused."""
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        if not is_changes(set(frame.columns)):
            raise ValueError(f"columns must be {','.join(COLUMNS)}")
        return to_intervals(frame, origin)
    except MalformedPayloadError as exc:
        raise MalformedPayloadError(str(exc), body) from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise MalformedPayloadError(f"{origin}: {exc}", body) from exc


class MembershipSource:
    """Universe membership changes. ``options``: ``url`` or ``key`` (see the module)."""

    name = "membership"

    def __init__(self, http: VendorHttp | None = None) -> None:
        self.http = http

    def _key(self, request: FetchRequest) -> str:
        return str(request.options.get("key") or get_vendor_settings().membership_key)

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        if request.options.get("url"):
            return None
        key = self._key(request)
        listed = [o for o in landing.list_objects(key) if o[0] == key]
        return fingerprint_of(self.name, listed) if listed else None

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        if request.datasets and request.datasets != ["universe"]:
            raise SourceConfigError("membership only provides the universe dataset")
        url = request.options.get("url")
        collected = VendorBatch(self.name)
        if url:
            http = self.http or VendorHttp("membership list")
            origin = str(url)
            collected.attempt(
                "universe", origin, lambda: read_changes(origin, http.get(origin).body)
            )
            return collected.batch({"url": origin, "requests": http.requests_sent})
        key = self._key(request)
        if not landing.exists(key):
            raise SourceConfigError(
                f"membership: no changes file at s3://<data bucket>/{key}: upload one "
                "(date,universe,symbol,change) or pass options.url"
            )
        collected.attempt("universe", key, lambda: read_changes(key, landing.get_bytes(key)))
        return collected.batch({"key": key})
