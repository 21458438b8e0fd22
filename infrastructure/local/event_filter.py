"""Lambda event-filtering patterns (the EventBridge pattern subset Lambda supports).

A pattern is a dict mirroring the record; leaves are lists of allowed values or matchers:
exact values, ``{"prefix": s}``, ``{"anything-but": [..]}``, ``{"exists": bool}``,
``{"numeric": [op, n, ...]}``. Every key in the pattern must match (AND); values in a list are
alternatives (OR).
"""

from __future__ import annotations

import operator
from typing import Any

_MISSING = object()
_NUMERIC = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
}


def matches(pattern: dict[str, Any], record: Any) -> bool:
    for key, expected in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(expected, dict):
            if value is _MISSING or not matches(expected, value):
                return False
        elif not any(_leaf_matches(rule, value) for rule in expected):
            return False
    return True


def _leaf_matches(rule: Any, value: Any) -> bool:  # noqa: PLR0911 - one branch per rule kind
    if not isinstance(rule, dict):
        return value is not _MISSING and value == rule
    if "exists" in rule:
        return (value is not _MISSING) == bool(rule["exists"])
    if value is _MISSING:
        return False
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    if "numeric" in rule:
        terms = rule["numeric"]
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return all(
            _NUMERIC[op](number, float(n)) for op, n in zip(terms[::2], terms[1::2], strict=True)
        )
    raise ValueError(f"unsupported filter rule {rule!r}")
