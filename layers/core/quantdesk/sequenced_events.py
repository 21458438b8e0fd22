"""The one query for numbered events: a partition's items ``EVT#<seq>`` after a given number.

Run events (``RUN#<run_id>``) and inbox events (``INBOX#<owner>``) are stored the same way: one
item per event, its sort key the zero-padded sequence number and its ``data`` the event as JSON.
Readers that catch up after a number (the stream tail, the inbox stream) read them through here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from quantdesk import keys

Event = TypeVar("Event", bound=BaseModel)


def events_after(
    db: Any, table: str, pk: str, after_seq: int, *, limit: int, model: type[Event]
) -> list[Event]:
    """Up to ``limit`` events of partition ``pk`` numbered after ``after_seq``, in order."""
    response = db.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
        ExpressionAttributeValues={
            ":pk": {"S": pk},
            ":lo": {"S": keys.event_sk(after_seq + 1)},
            ":hi": {"S": keys.event_sk(10**keys.SEQ_WIDTH - 1)},
        },
        ConsistentRead=True,
        Limit=limit,
    )
    return [model.model_validate_json(item["data"]["S"]) for item in response["Items"]]
