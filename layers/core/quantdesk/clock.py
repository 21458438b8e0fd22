"""Timestamps in the format Step Functions writes (``$$.State.EnteredTime``): UTC, ms, ``Z``."""

from __future__ import annotations

import datetime as dt


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))
