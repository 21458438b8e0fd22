"""Per-user limits on starting runs: runs in flight and starts per clock minute.

Both are taken in one DynamoDB transaction of two conditional updates on the owner's limit items
(``keys.inflight_key``, ``keys.starts_key``), so concurrent starts can never overshoot and one
user's limits never touch another's. The same transaction stores the new run item: a start is
one write, and a run is stored exactly when its slot is taken.

Runs in flight are a *set of run ids*, not a counter. A run's id leaves the set when its run item
turns terminal, whichever path ended it (the state machine's own writes, cancel, the reconciler,
the sweeper, restart reconciliation): the projector, which sees every run write on the table's
stream, releases it (``slots``); cancel and a start that fails also release theirs at once.
Releasing (``DELETE`` from a set) is idempotent. A release can still be lost (the projector
logs a failed one and moves on), so a start that finds the set full re-reads those runs
(consistent reads of at most the cap), removes the ones that have ended, and tries once more:
the run items are the truth, and a lost or repeated release cannot leak or double-free a slot.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from quantdesk import keys
from quantdesk.errors import ServiceUnavailable, TooManyRequests
from quantdesk.runs.ids import created_ms
from quantdesk.runs.models import TERMINAL
from quantdesk.settings import Settings
from quantdesk.table_access import TableAccess

WINDOW_S: Final = 60
#: a run id in the set without a run item yet is a start still in progress, unless this old
STARTING_GRACE_S: Final = 60
#: Retry-After when the in-flight cap is hit (a slot frees when one of the runs ends)
INFLIGHT_RETRY_S: Final = 5
#: keys per BatchGetItem (DynamoDB's limit)
BATCH_GET_MAX: Final = 100
UNPROCESSED_PAUSE_S: Final = 0.05
#: tries of a start's transaction that DynamoDB cancels for a conflict with another in flight
CONFLICT_ATTEMPTS: Final = 5
#: the first retry's longest pause; each later one doubles it
CONFLICT_PAUSE_S: Final = 0.02


def _reasons(exc: ClientError) -> list[str | None]:
    """The cancellation reasons' codes of a cancelled transaction, one per item."""
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]


def _s(value: str) -> dict[str, str]:
    return {"S": value}


@dataclass(frozen=True)
class Limits:
    max_in_flight: int
    max_per_minute: int

    def policy_header(self) -> str:
        """``RateLimit-Policy`` (draft-ietf-httpapi-ratelimit-headers)."""
        return f'"inflight";q={self.max_in_flight}, "starts";q={self.max_per_minute};w={WINDOW_S}'

    def exceeded(self, policy: str, retry_after: int) -> TooManyRequests:
        message = (
            f"at most {self.max_in_flight} runs may be queued or running at once"
            if policy == "inflight"
            else f"at most {self.max_per_minute} runs may be started per minute"
        )
        return TooManyRequests(
            message,
            headers={
                "Retry-After": str(retry_after),
                "RateLimit-Policy": self.policy_header(),
                "RateLimit": f'"{policy}";r=0;t={retry_after}',
            },
        )


class RunLimits(TableAccess):
    def __init__(self, table_name: str, limits: Limits) -> None:
        super().__init__(table_name)
        self.limits = limits

    @classmethod
    def configured(cls, settings: Settings) -> RunLimits:
        """The table's limits as the settings set them."""
        return cls(
            settings.table_name,
            Limits(settings.max_runs_in_flight, settings.max_starts_per_minute),
        )

    def acquire(self, owner: str, run_id: str, put: dict[str, Any] | None = None) -> None:
        """Take an in-flight slot for ``run_id``, count one start and apply ``put`` (the new
        run item), all or nothing; TooManyRequests when either limit is reached."""
        failed = self._take(owner, run_id, put)
        if failed == "inflight" and self._reconcile(owner):
            failed = self._take(owner, run_id, put)
        if failed == "starts":
            raise self.limits.exceeded("starts", max(1, math.ceil(WINDOW_S - time.time() % 60)))
        if failed == "inflight":
            raise self.limits.exceeded("inflight", INFLIGHT_RETRY_S)

    def release(self, owner: str, run_id: str) -> None:
        """Give the run's slot back (idempotent)."""
        try:
            self._db.update_item(
                TableName=self.table,
                Key={k: _s(v) for k, v in keys.inflight_key(owner).items()},
                UpdateExpression="DELETE runs :ids",
                ExpressionAttributeValues={":ids": {"SS": [run_id]}},
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not release the run's slot") from exc

    def _take(self, owner: str, run_id: str, put: dict[str, Any] | None) -> str | None:
        """Both conditional updates (and ``put``) in one transaction; the name of the limit
        that refused."""
        now = time.time()
        minute = int(now // WINDOW_S)
        items = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {k: _s(v) for k, v in keys.inflight_key(owner).items()},
                    "UpdateExpression": "ADD runs :ids",
                    "ConditionExpression": "attribute_not_exists(runs) OR size(runs) < :max",
                    "ExpressionAttributeValues": {
                        ":ids": {"SS": [run_id]},
                        ":max": {"N": str(self.limits.max_in_flight)},
                    },
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {k: _s(v) for k, v in keys.starts_key(owner, minute).items()},
                    "UpdateExpression": "ADD starts :one SET #exp = :exp",
                    "ConditionExpression": "attribute_not_exists(starts) OR starts < :max",
                    "ExpressionAttributeNames": {"#exp": keys.EXPIRES_AT},
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":max": {"N": str(self.limits.max_per_minute)},
                        ":exp": {"N": str((minute + 2) * WINDOW_S)},
                    },
                }
            },
            *([{"Put": put}] if put else []),
        ]
        try:
            self._transact(items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise ServiceUnavailable("could not check the run limits") from exc
            reasons = _reasons(exc)
            if len(reasons) >= 2 and reasons[1] == "ConditionalCheckFailed":
                return "starts"
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "inflight"
            if len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed":
                raise ServiceUnavailable("a run with this id exists already") from exc
            raise ServiceUnavailable("could not check the run limits") from exc
        return None

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """The transaction, tried again after a random pause (full jitter) while DynamoDB cancels
        it for a conflict: one user's concurrent starts all write the same limit items, and a
        transaction that meets another in flight on an item is cancelled, not queued."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                last = attempt == CONFLICT_ATTEMPTS - 1
                if last or "TransactionConflict" not in _reasons(exc):
                    raise
                time.sleep(random.uniform(0, CONFLICT_PAUSE_S * 2**attempt))

    def _reconcile(self, owner: str) -> bool:
        """Drop the run ids of runs that have ended from the owner's set; True if any were."""
        key = {k: _s(v) for k, v in keys.inflight_key(owner).items()}
        try:
            item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            run_ids = item.get("Item", {}).get("runs", {}).get("SS", [])
            ended = self._ended(run_ids)
            if ended:
                self._db.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression="DELETE runs :ids",
                    ExpressionAttributeValues={":ids": {"SS": ended}},
                )
        except ClientError as exc:
            raise ServiceUnavailable("could not check the run limits") from exc
        return bool(ended)

    def _ended(self, run_ids: list[str]) -> list[str]:
        """Which of ``run_ids`` have ended: their run items' statuses, read consistently in
        batches (one request per :data:`BATCH_GET_MAX` runs, not one per run)."""
        statuses: dict[str, str] = {}
        for first in range(0, len(run_ids), BATCH_GET_MAX):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {k: _s(v) for k, v in keys.run_key(run_id).items()}
                        for run_id in run_ids[first : first + BATCH_GET_MAX]
                    ],
                    "ProjectionExpression": "#pk, #status",
                    "ExpressionAttributeNames": {"#pk": keys.PK, "#status": "status"},
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for found in response.get("Responses", {}).get(self.table, []):
                    statuses[found[keys.PK]["S"]] = found["status"]["S"]
                request = response.get("UnprocessedKeys") or {}
                if request:  # throttled: the rest after a pause, as AWS advises
                    time.sleep(UNPROCESSED_PAUSE_S)
        ended = []
        for run_id in run_ids:
            status = statuses.get(keys.run_pk(run_id))
            if status is None:
                if time.time() - created_ms(run_id) / 1000 > STARTING_GRACE_S:
                    ended.append(run_id)
            elif status in TERMINAL:
                ended.append(run_id)
        return ended
