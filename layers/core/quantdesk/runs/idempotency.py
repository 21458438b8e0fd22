"""Idempotency keys for starting runs (the ``Idempotency-Key`` header, draft-ietf-httpapi-
idempotency-key-header, or the body's ``idempotency_key``).

A key is claimed per owner with a fingerprint of the request (scenario and params) and the run
id it started; it expires after 24 hours (the table's TTL; an expired record is also ignored
before the TTL sweep removes it). The same key and request gets the same run back; the same key
with another request is a 409; a key whose first attempt failed before its execution started
(``StartFailed``, or a run that was never stored) is taken over by the retry, not burned.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from quantdesk import keys
from quantdesk.errors import Conflict, ServiceUnavailable
from quantdesk.runs.ids import created_ms
from quantdesk.runs.repository import RunRepository
from quantdesk.table_access import TableAccess

KEY_TTL_S: Final = 24 * 3600
#: a claimed key without its run yet is an attempt still in progress, unless this old
IN_PROGRESS_S: Final = 60
#: the error type of a run whose execution never started
START_FAILED: Final = "StartFailed"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def fingerprint(scenario_id: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([scenario_id, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The run id this request should use; ``replay`` when it already exists."""

    run_id: str
    replay: bool


class IdempotencyKeys(TableAccess):
    def __init__(self, table_name: str, runs: RunRepository) -> None:
        super().__init__(table_name)
        self.runs = runs

    def _key(self, owner: str, key: str) -> dict[str, dict[str, str]]:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return {k: _s(v) for k, v in keys.idempotency_key(owner, digest).items()}

    def claim(self, owner: str, key: str, request_fingerprint: str, run_id: str) -> Claim:
        now = int(time.time())
        item = {
            **self._key(owner, key),
            "run_id": _s(run_id),
            "fingerprint": _s(request_fingerprint),
            keys.EXPIRES_AT: {"N": str(now + KEY_TTL_S)},
        }
        try:
            self._db.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR #exp < :now",
                ExpressionAttributeNames={"#exp": keys.EXPIRES_AT},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
            return Claim(run_id, replay=False)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise ServiceUnavailable("could not record the idempotency key") from exc
        existing = self._get(owner, key)
        if existing is None:  # expired and swept in between: claim again
            return self.claim(owner, key, request_fingerprint, run_id)
        if existing["fingerprint"]["S"] != request_fingerprint:
            raise Conflict(
                "idempotency key already used for a different request", field="idempotency_key"
            )
        previous = existing["run_id"]["S"]
        run = self.runs.get(previous)
        if run is not None and not (run.error and run.error.type == START_FAILED):
            return Claim(previous, replay=True)
        if run is None and time.time() - created_ms(previous) / 1000 < IN_PROGRESS_S:
            raise Conflict(
                "a request with this idempotency key is still being processed",
                field="idempotency_key",
            )
        self._take_over(owner, key, previous, run_id)
        return Claim(run_id, replay=False)

    def release(self, owner: str, key: str, run_id: str) -> None:
        """Forget a claim whose request was refused before its run was stored (e.g. a 429)."""
        try:
            self._db.delete_item(
                TableName=self.table,
                Key=self._key(owner, key),
                ConditionExpression="run_id = :run",
                ExpressionAttributeValues={":run": _s(run_id)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise ServiceUnavailable("could not release the idempotency key") from exc

    def _get(self, owner: str, key: str) -> dict[str, Any] | None:
        try:
            response = self._db.get_item(
                TableName=self.table, Key=self._key(owner, key), ConsistentRead=True
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not read the idempotency key") from exc
        item: dict[str, Any] | None = response.get("Item")
        if item and int(item[keys.EXPIRES_AT]["N"]) < time.time():
            return None
        return item

    def _take_over(self, owner: str, key: str, previous: str, run_id: str) -> None:
        try:
            self._db.update_item(
                TableName=self.table,
                Key=self._key(owner, key),
                UpdateExpression="SET run_id = :new",
                ConditionExpression="run_id = :old",
                ExpressionAttributeValues={":new": _s(run_id), ":old": _s(previous)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(
                    "a request with this idempotency key is still being processed",
                    field="idempotency_key",
                ) from exc
            raise ServiceUnavailable("could not record the idempotency key") from exc
