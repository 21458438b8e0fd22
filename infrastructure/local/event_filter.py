"""Event patterns: Lambda event-filtering criteria (the stream poller) and EventBridge rules
(``event_rules``) share the syntax.

A pattern is a dict mirroring the record; every key must match (AND), and a leaf is a list of
alternatives (OR): exact values (``null`` and ``""`` included), ``{"prefix": s}``,
``{"suffix": s}``, ``{"equals-ignore-case": s}``, ``{"anything-but": v | [..] | {"prefix": s}}``,
``{"exists": bool}``, ``{"numeric": [op, n, ...]}``. ``{"$or": [pattern, ...]}`` matches when any
sub-pattern does. When the record's value is a list, the leaf matches if any element does.
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
        if key == "$or":
            if not any(matches(alternative, record) for alternative in expected):
                return False
            continue
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(expected, dict):
            if value is _MISSING or not matches(expected, value):
                return False
        elif not isinstance(expected, list):
            raise ValueError(f"filter leaf for {key!r} must be a list, got {expected!r}")
        elif not any(_leaf_matches_any(rule, value) for rule in expected):
            return False
    return True


def _leaf_matches_any(rule: Any, value: Any) -> bool:
    if isinstance(value, list):
        if isinstance(rule, dict) and "anything-but" in rule:
            return all(_leaf_matches(rule, item) for item in value)
        return any(_leaf_matches(rule, item) for item in value)
    return _leaf_matches(rule, value)


def _leaf_matches(rule: Any, value: Any) -> bool:  # noqa: PLR0911 - one branch per rule kind
    if not isinstance(rule, dict):
        return value is not _MISSING and value == rule
    if "exists" in rule:
        return (value is not _MISSING) == bool(rule["exists"])
    if value is _MISSING:
        return False
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "suffix" in rule:
        return isinstance(value, str) and value.endswith(rule["suffix"])
    if "equals-ignore-case" in rule:
        return isinstance(value, str) and value.casefold() == rule["equals-ignore-case"].casefold()
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        if isinstance(excluded, dict):
            return not _leaf_matches(excluded, value)
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    if "numeric" in rule:
        return _numeric(rule["numeric"], value)
    raise ValueError(f"unsupported filter rule {rule!r}")


def _numeric(terms: list[Any], value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return all(
        _NUMERIC[op](number, float(n)) for op, n in zip(terms[::2], terms[1::2], strict=True)
    )
