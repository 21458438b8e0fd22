"""DynamoDB access for watches and alerts: the only watch code that touches the table.

A watch is one item (its definition as JSON, the fields that change as attributes of their own,
so a pause and a firing's baseline update never overwrite each other), plus, for a snapshot
watch, one item per dataset it reads (a new snapshot queries those). Alerts live in the owner's
alerts partition; storing one also numbers it in the owner's inbox (a counter and one event item
per alert, written in the same transaction), which the inbox stream follows.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from quantdesk import keys, sequenced_events
from quantdesk.errors import ServiceUnavailable
from quantdesk.table_access import TableAccess
from quantdesk.watches.models import Alert, Delivery, InboxEvent, Watch

#: what changes after creation (everything else is the JSON ``definition``)
_MUTABLE = ("state", "updated_at", "baseline_run_id", "last_fired_at")
#: attempts at numbering an alert while other alerts of the same owner take the next number
MAX_SEQ_ATTEMPTS = 10


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _key(key: dict[str, str]) -> dict[str, dict[str, str]]:
    return {k: _s(v) for k, v in key.items()}


def _watch_from_item(item: dict[str, Any]) -> Watch:
    plain = json.loads(item["definition"]["S"])
    for name in _MUTABLE:
        if name in item:
            plain[name] = item[name]["S"]
    return Watch.model_validate(plain)


class WatchRepository(TableAccess):
    def create(self, watch: Watch) -> None:
        definition = watch.model_dump(mode="json", exclude=set(_MUTABLE))
        item = {
            **_key(keys.watch_key(watch.watch_id)),
            keys.GSI1PK: _s(keys.watches_pk(watch.owner)),
            keys.GSI1SK: _s(keys.owner_sk(watch.created_at, watch.watch_id)),
            "definition": _s(json.dumps(definition)),
            **{n: _s(v) for n in _MUTABLE if (v := getattr(watch, n)) is not None},
        }
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        if watch.trigger.on == "snapshot":
            writes += [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **_key(keys.snapshot_watch_key(dataset, watch.watch_id)),
                            "watch_id": _s(watch.watch_id),
                        },
                    }
                }
                for dataset in watch.datasets
            ]
        try:
            self._db.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            raise ServiceUnavailable("could not store the watch") from exc

    def get(self, watch_id: str) -> Watch | None:
        try:
            response = self._db.get_item(
                TableName=self.table, Key=_key(keys.watch_key(watch_id)), ConsistentRead=True
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not read the watch") from exc
        item = response.get("Item")
        return _watch_from_item(item) if item else None

    def list_for_owner(self, owner: str) -> list[Watch]:
        """The owner's watches, newest first (a researcher keeps tens, not thousands)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": keys.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": _s(keys.watches_pk(owner))},
            "ScanIndexForward": False,
        }
        try:
            pages = self._db.get_paginator("query").paginate(**query)
            return [_watch_from_item(i) for page in pages for i in page.get("Items", [])]
        except ClientError as exc:
            raise ServiceUnavailable("could not list the watches") from exc

    def watching(self, dataset: str) -> list[str]:
        """Ids of the snapshot watches that read ``dataset``."""
        try:
            pages = self._db.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": _s(keys.snapshot_watches_pk(dataset))},
            )
            return [i["watch_id"]["S"] for page in pages for i in page.get("Items", [])]
        except ClientError as exc:
            raise ServiceUnavailable("could not list the dataset's watches") from exc

    def update(self, watch_id: str, condition: str = "", **values: str) -> bool:
        """Set mutable fields of an existing watch; False when it is gone or ``condition``
        (over ``:name`` placeholders of ``values``) does not hold."""
        names = {f"#{n}": n for n in values}
        update = "SET " + ", ".join(f"#{n} = :{n}" for n in values)
        expression = "attribute_exists(PK)" + (f" AND ({condition})" if condition else "")
        try:
            self._db.update_item(
                TableName=self.table,
                Key=_key(keys.watch_key(watch_id)),
                UpdateExpression=update,
                ConditionExpression=expression,
                ExpressionAttributeNames=names | _condition_names(condition),
                ExpressionAttributeValues={f":{n}": _s(v) for n, v in values.items()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise ServiceUnavailable("could not update the watch") from exc
        return True

    def delete(self, watch: Watch) -> None:
        deletes = [keys.watch_key(watch.watch_id)]
        deletes += [keys.snapshot_watch_key(d, watch.watch_id) for d in watch.datasets]
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": self.table, "Key": _key(k)}} for k in deletes
                ]
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not delete the watch") from exc

    # -- alerts -------------------------------------------------------------------------------

    def put_alert(self, owner: str, alert: Alert) -> bool:
        """Store an alert once: False when it was already stored (a redelivered event).

        The alert, the owner's inbox counter (``n`` → ``n+1``, conditional on ``n``) and the
        inbox event ``n+1`` are one transaction, so inbox numbers are gap-free and a reader
        that sees event ``n+1`` can already read every earlier one (a concurrent alert of the
        same owner that lost the race retries with the next number)."""
        item = {
            **_key(keys.alert_key(owner, alert.alert_id)),
            "read": {"BOOL": alert.read},
            "alert": _s(alert.model_dump_json(exclude={"read", "deliveries"})),
            "deliveries": {
                "M": {str(i): _s(d.model_dump_json()) for i, d in enumerate(alert.deliveries)}
            },
        }
        for _ in range(MAX_SEQ_ATTEMPTS):
            current = self.inbox_seq(owner)
            event = InboxEvent.of(current + 1, alert)
            writes = [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {**_inbox_seq_key(owner), "seq": {"N": str(event.seq)}},
                        **_seq_condition(current),
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **_inbox_event_key(owner, event.seq),
                            "data": _s(event.model_dump_json()),
                        },
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
            try:
                self._db.transact_write_items(TransactItems=writes)
            except ClientError as exc:
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if reasons[:1] == ["ConditionalCheckFailed"]:
                    return False
                if "ConditionalCheckFailed" in reasons[1:]:
                    continue  # another alert took this number
                raise ServiceUnavailable("could not store the alert") from exc
            return True
        raise ServiceUnavailable("could not number the alert in the inbox")

    def inbox_seq(self, owner: str) -> int:
        """The number of the owner's newest inbox event (0 before the first alert)."""
        try:
            response = self._db.get_item(
                TableName=self.table, Key=_inbox_seq_key(owner), ConsistentRead=True
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not read the inbox") from exc
        item = response.get("Item")
        return int(item["seq"]["N"]) if item else 0

    def inbox_events_after(self, owner: str, after_seq: int, limit: int = 100) -> list[InboxEvent]:
        """Up to ``limit`` of the owner's inbox events numbered after ``after_seq``, in order."""
        return sequenced_events.events_after(
            self._db, self.table, keys.inbox_pk(owner), after_seq, limit=limit, model=InboxEvent
        )

    def get_alert(self, owner: str, alert_id: str) -> Alert | None:
        try:
            response = self._db.get_item(
                TableName=self.table,
                Key=_key(keys.alert_key(owner, alert_id)),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not read the alert") from exc
        item = response.get("Item")
        return _alert_from_item(item) if item else None

    def alerts(self, owner: str, limit: int) -> list[Alert]:
        """The owner's newest ``limit`` alerts, newest first."""
        try:
            response = self._db.query(
                TableName=self.table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": _s(keys.alerts_pk(owner))},
                ScanIndexForward=False,
                Limit=limit,
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not list the alerts") from exc
        return [_alert_from_item(item) for item in response.get("Items", [])]

    def mark_read(self, owner: str, alert_id: str) -> bool:
        try:
            self._db.update_item(
                TableName=self.table,
                Key=_key(keys.alert_key(owner, alert_id)),
                UpdateExpression="SET #read = :true",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#read": "read"},
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise ServiceUnavailable("could not update the alert") from exc
        return True

    def record_delivery(self, owner: str, alert_id: str, index: int, delivery: Delivery) -> None:
        """Store one channel's delivery outcome (each channel its own map entry, so concurrent
        deliveries of one alert never overwrite each other)."""
        try:
            self._db.update_item(
                TableName=self.table,
                Key=_key(keys.alert_key(owner, alert_id)),
                UpdateExpression="SET deliveries.#i = :d",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#i": str(index)},
                ExpressionAttributeValues={":d": _s(delivery.model_dump_json())},
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not update the alert") from exc


def _inbox_seq_key(owner: str) -> dict[str, dict[str, str]]:
    return _key({keys.PK: keys.inbox_pk(owner), keys.SK: keys.INBOX_SEQ_SK})


def _inbox_event_key(owner: str, seq: int) -> dict[str, dict[str, str]]:
    return _key({keys.PK: keys.inbox_pk(owner), keys.SK: keys.event_sk(seq)})


def _seq_condition(current: int) -> dict[str, Any]:
    """The counter still holds ``current`` (0: it does not exist yet)."""
    if current == 0:
        return {"ConditionExpression": "attribute_not_exists(PK)"}
    return {
        "ConditionExpression": "seq = :current",
        "ExpressionAttributeValues": {":current": {"N": str(current)}},
    }


def _condition_names(condition: str) -> dict[str, str]:
    return {f"#{n}": n for n in _MUTABLE if f"#{n}" in condition}


def _alert_from_item(item: dict[str, Any]) -> Alert:
    stored = item.get("deliveries", {}).get("M", {})
    deliveries = [json.loads(stored[i]["S"]) for i in sorted(stored, key=int)]
    plain = json.loads(item["alert"]["S"])
    return Alert.model_validate({**plain, "read": item["read"]["BOOL"], "deliveries": deliveries})
