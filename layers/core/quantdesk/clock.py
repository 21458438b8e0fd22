"""Timestamps in the format Step Functions writes (``$$.State.EnteredTime``): UTC, ms, ``Z``."""

from __future__ import annotations

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
