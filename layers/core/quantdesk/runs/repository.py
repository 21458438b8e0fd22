"""DynamoDB access for runs and their events: the only run code that touches boto3.

Complex fields (manifest, progress, result summary) are stored as JSON strings so every reader
(API, projector via stream images, SSE app) decodes them the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from quantdesk import keys, sequenced_events
from quantdesk.errors import InvalidCursor, ServiceUnavailable
from quantdesk.runs.models import Progress, Run, RunError, RunEvent, RunManifest, RunSummary
from quantdesk.step_function_errors import readable_cause
from quantdesk.table_access import TableAccess

_JSON_FIELDS = (
    "manifest",
    "progress",
    "result_summary",
    "data_snapshots",
    "timings",
    "artifacts",
)


class RunExists(Exception):
    """A run with that id is already stored."""


class NotActive(Exception):
    """The run is already in a terminal state (or not in the expected one)."""


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def decode_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB-typed attributes (as in GetItem or a stream image) -> plain values."""
    plain: dict[str, Any] = {}
    for name, typed in item.items():
        ((kind, value),) = typed.items()
        if kind == "N":
            plain[name] = int(value) if value.lstrip("-").isdigit() else float(value)
        elif kind == "NULL":
            plain[name] = None
        else:
            plain[name] = value
        if name in _JSON_FIELDS and isinstance(plain[name], str):
            plain[name] = json.loads(plain[name])
    return plain


def run_from_item(item: dict[str, Any]) -> Run:
    plain = decode_item(item)
    manifest = dict(plain["manifest"])
    manifest["data_snapshots"] = plain.get("data_snapshots") or manifest.get("data_snapshots", {})
    manifest["timings"] = {**manifest.get("timings", {}), **(plain.get("timings") or {})}
    error = None
    if plain.get("error_type"):
        error = RunError(type=plain["error_type"], message=readable_cause(plain.get("error_cause")))
    return Run(
        run_id=plain["run_id"],
        owner=plain["owner"],
        scenario_id=plain["scenario_id"],
        status=plain["status"],
        watch_id=plain.get("watch_id"),
        created_at=plain["created_at"],
        updated_at=plain["updated_at"],
        started_at=plain.get("started_at"),
        finished_at=plain.get("finished_at"),
        event_seq=plain["event_seq"],
        manifest=RunManifest.model_validate(manifest),
        progress=Progress.model_validate(plain["progress"]) if plain.get("progress") else None,
        error=error,
        result_key=plain.get("result_key"),
        result_summary=plain.get("result_summary"),
        artifacts=plain.get("artifacts") or {},
        cached=bool(plain.get("cached_from")),
        cached_from=plain.get("cached_from"),
    )


class RunRepository(TableAccess):
    def create(self, run: Run, idempotency_key: str | None = None) -> None:
        try:
            self._db.put_item(**self.put_new(run, idempotency_key))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise RunExists(run.run_id) from exc
            raise ServiceUnavailable("could not store the run") from exc

    def put_new(self, run: Run, idempotency_key: str | None = None) -> dict[str, Any]:
        """The conditional put of a new run item (``PutItem``'s arguments, or a transaction's
        ``Put``)."""
        item = {
            **{k: _s(v) for k, v in keys.run_key(run.run_id).items()},
            keys.GSI1PK: _s(keys.owner_pk(run.owner)),
            keys.GSI1SK: _s(keys.owner_sk(run.created_at, run.run_id)),
            "run_id": _s(run.run_id),
            "owner": _s(run.owner),
            "scenario_id": _s(run.scenario_id),
            "status": _s(run.status),
            "created_at": _s(run.created_at),
            "updated_at": _s(run.updated_at),
            "event_seq": {"N": str(run.event_seq)},
            "last_event": _s("status"),
            "manifest": _s(run.manifest.model_dump_json()),
        }
        if idempotency_key:
            item["idempotency_key"] = _s(idempotency_key)
        if run.watch_id:
            item["watch_id"] = _s(run.watch_id)
        if run.status in keys.ACTIVE_STATUSES:
            item |= _active_attributes(run.status, run.updated_at)
        item |= _finished_attributes(run)
        return {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(PK)",
        }

    def get(self, run_id: str) -> Run | None:
        try:
            response = self._db.get_item(
                TableName=self.table,
                Key={k: _s(v) for k, v in keys.run_key(run_id).items()},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise ServiceUnavailable("could not read the run") from exc
        item = response.get("Item")
        return run_from_item(item) if item else None

    def list_for_owner(
        self, owner: str, limit: int, after: str | None
    ) -> tuple[list[RunSummary], str | None]:
        """The owner's runs, newest first. ``after`` is the run id of the previous page's last
        run (the page cursor); the index key is rebuilt from it and the caller's own partition,
        so a cursor can never reach another owner's runs."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": keys.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": _s(keys.owner_pk(owner))},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            last = self.get(after)
            if last is None or last.owner != owner:
                raise InvalidCursor
            query["ExclusiveStartKey"] = {
                **{k: _s(v) for k, v in keys.run_key(after).items()},
                keys.GSI1PK: _s(keys.owner_pk(owner)),
                keys.GSI1SK: _s(keys.owner_sk(last.created_at, after)),
            }
        try:
            response = self._db.query(**query)
        except ClientError as exc:
            raise ServiceUnavailable("could not list runs") from exc
        runs = [summary_from_item(item) for item in response.get("Items", [])]
        more = response.get("LastEvaluatedKey") and runs
        return runs, runs[-1].run_id if more else None

    def in_flight(self) -> list[str]:
        """The ids of every run still ``queued`` or ``running``: a Query of the sparse active
        index per status (it holds only runs in flight), never a Scan of the table."""
        return [run_id for status in keys.ACTIVE_STATUSES for run_id in self._active(status)]

    def _active(self, status: str, before: str | None = None) -> Iterator[str]:
        """The ids of the runs the active index holds in ``status`` (only those that entered
        it before ``before`` when given), oldest first, page by page. The index is eventually
        consistent: a run listed may have just ended."""
        condition = "#pk = :pk"
        names = {"#pk": keys.ACTIVE_PK}
        values = {":pk": _s(keys.active_pk(status))}
        if before is not None:
            condition += " AND #sk < :before"
            names["#sk"] = keys.ACTIVE_SK
            values[":before"] = _s(before)
        query = {
            "TableName": self.table,
            "IndexName": keys.ACTIVE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        try:
            for page in self._db.get_paginator("query").paginate(**query):
                for item in page.get("Items", []):
                    yield keys.run_id_of(item[keys.PK]["S"])
        except ClientError as exc:
            raise ServiceUnavailable("could not list the runs in flight") from exc

    def _transition(self, run_id: str, update: str, values: dict[str, Any], condition: str) -> None:
        try:
            self._db.update_item(
                TableName=self.table,
                Key={k: _s(v) for k, v in keys.run_key(run_id).items()},
                UpdateExpression=update + " ADD event_seq :one",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={**values, ":one": {"N": "1"}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotActive(run_id) from exc
            raise ServiceUnavailable("could not update the run") from exc

    def record_progress(self, run_id: str, progress: Progress, now: str) -> None:
        self._transition(
            run_id,
            "SET progress = :p, updated_at = :now, last_event = :e",
            {
                ":p": _s(progress.model_dump_json()),
                ":now": _s(now),
                ":e": _s("progress"),
                ":running": _s("running"),
            },
            "#status = :running",
        )

    def shard_done(self, run_id: str, index: int) -> int:
        """Count shard ``index`` of a sharded run as done; how many are done now.

        The count is a number set (``ADD`` of the index): atomic, so concurrent shards lose
        no count, and idempotent, so a retried shard is not counted twice. No event (the
        sequence number stays): :meth:`record_shard_progress` reports the count."""
        try:
            response = self._db.update_item(
                TableName=self.table,
                Key={k: _s(v) for k, v in keys.run_key(run_id).items()},
                UpdateExpression="ADD shards_done :index",
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":index": {"NS": [str(index)]},
                    ":running": _s("running"),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotActive(run_id) from exc
            raise ServiceUnavailable("could not count the shard") from exc
        return len(response["Attributes"]["shards_done"]["NS"])

    def record_shard_progress(self, run_id: str, done: int, progress: Progress, now: str) -> bool:
        """A progress event for ``done`` shards, unless a larger count was already reported
        (shards finish concurrently: the events' counts only grow). False when skipped."""
        try:
            self._transition(
                run_id,
                "SET progress = :p, updated_at = :now, last_event = :e, shards_reported = :n",
                {
                    ":p": _s(progress.model_dump_json()),
                    ":now": _s(now),
                    ":e": _s("progress"),
                    ":n": {"N": str(done)},
                    ":running": _s("running"),
                },
                "#status = :running AND "
                "(attribute_not_exists(shards_reported) OR shards_reported < :n)",
            )
        except NotActive:
            run = self.get(run_id)
            if run is None or run.status != "running":
                raise
            return False
        return True

    def record_result(
        self,
        run_id: str,
        *,
        result_key: str,
        summary: dict[str, Any],
        snapshots: dict[str, str],
        timings: dict[str, float],
        now: str,
        artifacts: dict[str, str] | None = None,
    ) -> None:
        self._transition(
            run_id,
            "SET result_key = :k, result_summary = :s, data_snapshots = :d, timings = :t, "
            "artifacts = :a, updated_at = :now, last_event = :e",
            {
                ":k": _s(result_key),
                ":s": _s(json.dumps(summary, default=str)),
                ":d": _s(json.dumps(snapshots)),
                ":t": _s(json.dumps(timings)),
                ":a": _s(json.dumps(artifacts or {})),
                ":now": _s(now),
                ":e": _s("result"),
                ":running": _s("running"),
            },
            "#status = :running",
        )

    def finish(self, run_id: str, status: str, now: str, error: RunError | None = None) -> None:
        """Move a non-terminal run to a terminal ``status`` (cancel, or a failed start)."""
        update = "SET #status = :status, updated_at = :now, finished_at = :now, last_event = :e"
        # out of the active index in the same write
        remove = f" REMOVE {keys.ACTIVE_PK}, {keys.ACTIVE_SK}"
        values = {
            ":status": _s(status),
            ":now": _s(now),
            ":e": _s("status"),
            ":queued": _s("queued"),
            ":running": _s("running"),
        }
        if error:
            update += ", error_type = :et, error_cause = :ec"
            values |= {":et": _s(error.type), ":ec": _s(error.message)}
        self._transition(run_id, update + remove, values, "#status IN (:queued, :running)")

    def stale_runs(self, updated_before: dict[str, str]) -> Iterator[tuple[str, str]]:
        """(run id, status) of runs in a status of ``updated_before`` whose last update is
        older than the timestamp given for that status.

        A Query of the active index per status bounded by the cutoff (a run entered its status
        at or before its last update, so only runs that entered it before the cutoff can be
        stale), then a consistent read of each candidate's status and last update: progress
        writes leave the index alone, and the index may lag a run's end."""
        for status, cutoff in sorted(updated_before.items()):
            for run_id in self._active(status, before=cutoff):
                current = self._status_and_update(run_id)
                if current is not None and current[0] == status and current[1] < cutoff:
                    yield run_id, status

    def _status_and_update(self, run_id: str) -> tuple[str, str] | None:
        try:
            item = self._db.get_item(
                TableName=self.table,
                Key={k: _s(v) for k, v in keys.run_key(run_id).items()},
                ProjectionExpression="#status, updated_at",
                ExpressionAttributeNames={"#status": "status"},
                ConsistentRead=True,
            ).get("Item")
        except ClientError as exc:
            raise ServiceUnavailable("could not read the run") from exc
        return (item["status"]["S"], item["updated_at"]["S"]) if item else None

    def ensure_active_index(self) -> int:
        """Give a table stored before the active index (a local store restored from an older
        version: its template update cannot add an index) the index, and every run in flight in
        it the index's keys; the number of runs given them. A table that has the index is left
        alone (one DescribeTable); the one-off backfill is the only Scan of the runs.

        The keys are written first and the index created last (it indexes the items that have
        them): a restart that dies in the backfill leaves no index, so the next one does it
        again, rather than an index missing some of the runs in flight."""
        try:
            table = self._db.describe_table(TableName=self.table)["Table"]
            indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
            if keys.ACTIVE_INDEX in indexes:
                return 0
            added = self._backfill_active()
            self._db.update_table(
                TableName=self.table,
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in (keys.ACTIVE_PK, keys.ACTIVE_SK)
                ],
                GlobalSecondaryIndexUpdates=[{"Create": keys.active_index_spec()}],
            )
            return added
        except ClientError as exc:
            raise ServiceUnavailable("could not add the active-runs index") from exc

    def _backfill_active(self) -> int:
        scan = {
            "TableName": self.table,
            "FilterExpression": "SK = :run AND #status IN (:queued, :running)",
            "ProjectionExpression": "PK, #status, updated_at",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":run": _s(keys.RUN_SK),
                ":queued": _s("queued"),
                ":running": _s("running"),
            },
        }
        added = 0
        for page in self._db.get_paginator("scan").paginate(**scan):
            for item in page.get("Items", []):
                status = item["status"]["S"]
                try:
                    self._db.update_item(
                        TableName=self.table,
                        Key={keys.PK: item[keys.PK], keys.SK: _s(keys.RUN_SK)},
                        UpdateExpression="SET #apk = :apk, #ask = if_not_exists(#ask, :since)",
                        ConditionExpression="#status = :status",
                        ExpressionAttributeNames={
                            "#status": "status",
                            "#apk": keys.ACTIVE_PK,
                            "#ask": keys.ACTIVE_SK,
                        },
                        ExpressionAttributeValues={
                            ":apk": _s(keys.active_pk(status)),
                            ":since": item["updated_at"],
                            ":status": _s(status),
                        },
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
                    continue  # it moved on meanwhile (its own writes keep the index)
                added += 1
        return added

    # -- events -------------------------------------------------------------------------------

    def put_event(self, event: RunEvent) -> bool:
        """Store an event once: False when that sequence number was already stored."""
        try:
            self._db.put_item(
                TableName=self.table,
                Item={
                    keys.PK: _s(keys.run_pk(event.run_id)),
                    keys.SK: _s(keys.event_sk(event.seq)),
                    "seq": {"N": str(event.seq)},
                    "data": _s(event.model_dump_json(exclude_none=True)),
                },
                ConditionExpression="attribute_not_exists(SK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def events_after(self, run_id: str, after_seq: int, limit: int = 100) -> list[RunEvent]:
        return sequenced_events.events_after(
            self._db, self.table, keys.run_pk(run_id), after_seq, limit=limit, model=RunEvent
        )


def _active_attributes(status: str, since: str) -> dict[str, Any]:
    """The active index's keys of a run that entered ``status`` at ``since``."""
    return {keys.ACTIVE_PK: _s(keys.active_pk(status)), keys.ACTIVE_SK: _s(since)}


def _finished_attributes(run: Run) -> dict[str, Any]:
    """What a run stored already finished carries (a cached run: born ``succeeded`` with the
    original's result, snapshots and artifacts)."""
    item: dict[str, Any] = {}
    if run.cached_from:
        item["cached_from"] = _s(run.cached_from)
    for name in ("started_at", "finished_at", "result_key"):
        if getattr(run, name):
            item[name] = _s(getattr(run, name))
    if run.result_summary is not None:
        item["result_summary"] = _s(json.dumps(run.result_summary, default=str))
    if run.artifacts:
        item["artifacts"] = _s(json.dumps(run.artifacts))
    if run.manifest.data_snapshots:
        item["data_snapshots"] = _s(json.dumps(run.manifest.data_snapshots))
    return item


def summary_from_item(item: dict[str, Any]) -> RunSummary:
    plain = decode_item(item)
    duration = None
    if plain.get("started_at") and plain.get("finished_at"):
        started = datetime.fromisoformat(plain["started_at"].replace("Z", "+00:00"))
        finished = datetime.fromisoformat(plain["finished_at"].replace("Z", "+00:00"))
        duration = int((finished - started).total_seconds() * 1000)
    return RunSummary(
        run_id=plain["run_id"],
        scenario_id=plain["scenario_id"],
        status=plain["status"],
        watch_id=plain.get("watch_id"),
        created_at=plain["created_at"],
        updated_at=plain["updated_at"],
        duration_ms=duration,
        cached=bool(plain.get("cached_from")),
        cached_from=plain.get("cached_from"),
    )
