"""Lambda filter criteria as the local stream poller applies them."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local.event_filter import matches
from quantdesk import keys


def record(sk: str, event_name: str = "MODIFY", **image: Any) -> dict[str, Any]:
    return {
        "eventName": event_name,
        "dynamodb": {
            "Keys": {keys.PK: {"S": "RUN#x"}, keys.SK: {"S": sk}},
            "NewImage": {name: value for name, value in image.items()},
            "SequenceNumber": "100",
        },
    }


RUN_FILTER = resources.STREAM_MAPPINGS[0].filter_patterns[0]


def test_the_projector_filter_passes_run_items_only() -> None:
    assert matches(RUN_FILTER, record(keys.RUN_SK))
    assert not matches(RUN_FILTER, record(keys.event_sk(3)))
    assert not matches(RUN_FILTER, record("LATEST"))
    assert not matches(RUN_FILTER, {"dynamodb": {}})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"eventName": [{"anything-but": "REMOVE"}]}, True),
        ({"eventName": [{"anything-but": ["MODIFY", "REMOVE"]}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "MOD"}}]}, False),
        ({"eventName": [{"prefix": "MOD"}]}, True),
        ({"eventName": [{"suffix": "IFY"}]}, True),
        ({"eventName": [{"equals-ignore-case": "modify"}]}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["running"]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["queued"]}}}}, False),
        ({"dynamodb": {"NewImage": {"event_seq": {"N": [{"numeric": [">", 2]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"event_seq": {"N": [{"numeric": [">", 2, "<", 3]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"event_seq": {"N": [{"numeric": ["=", 3]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"error_type": [{"exists": False}]}}}, True),
        ({"dynamodb": {"NewImage": {"error_type": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"note": {"NULL": [True]}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["z"]}}}}, False),
        (
            {"$or": [{"eventName": ["REMOVE"]}, {"dynamodb": {"Keys": {"SK": {"S": ["RUN"]}}}}]},
            True,
        ),
        ({"$or": [{"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}]}, False),
        # every key must match (AND)
        ({"eventName": ["MODIFY"], "dynamodb": {"Keys": {"SK": {"S": ["EVT#1"]}}}}, False),
    ],
)
def test_filter_rules(pattern: dict[str, Any], expected: bool) -> None:
    subject = record(
        keys.RUN_SK,
        status={"S": "running"},
        event_seq={"N": "3"},
        note={"NULL": True},
        tags={"SS": ["a", "b"]},
    )
    assert matches(pattern, subject) is expected


def test_unsupported_rules_are_loud() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        matches({"eventName": [{"wildcard": "*"}]}, record(keys.RUN_SK))
    with pytest.raises(ValueError, match="must be a list"):
        matches({"eventName": "MODIFY"}, record(keys.RUN_SK))
