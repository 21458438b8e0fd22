"""The only data lake code that touches AWS: S3 objects and DynamoDB snapshot records.

Clients come from :func:`quantdesk.aws.client` on first use (no I/O at import).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from quantdesk import aws, keys
from quantdesk.datalake.errors import LakeStorageError, SnapshotConflictError
from quantdesk.datalake.models import SnapshotRecord

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class LakeObjectStore:
    """Objects in the data bucket."""

    def __init__(self, bucket: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = aws.client("s3")
        return self._s3

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except ClientError as exc:
            raise LakeStorageError(f"cannot write s3://{self.bucket}/{key}") from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise LakeStorageError(f"cannot read s3://{self.bucket}/{key}") from exc
        return body

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return False
            raise LakeStorageError(f"cannot stat s3://{self.bucket}/{key}") from exc
        return True

    def put_json(self, key: str, value: Any) -> None:
        data = json.dumps(value, sort_keys=True, default=str).encode()
        self.put_bytes(key, data, "application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def list_objects(self, prefix: str) -> list[tuple[str, str, int]]:
        """``(key, etag, size)`` of every object under ``prefix``, sorted by key."""
        found: list[tuple[str, str, int]] = []
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                found.extend(
                    (item["Key"], str(item.get("ETag", "")), int(item.get("Size", 0)))
                    for item in page.get("Contents", [])
                )
        except ClientError as exc:
            raise LakeStorageError(f"cannot list s3://{self.bucket}/{prefix}") from exc
        return sorted(found)

    def list_keys(self, prefix: str) -> list[str]:
        return [key for key, _, _ in self.list_objects(prefix)]


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items() if v is not None and v != []}


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    out = {k: deserializer.deserialize(v) for k, v in item.items()}
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in out.items()}


def _record_item(record: SnapshotRecord) -> dict[str, Any]:
    body = record.model_dump(mode="json")
    return {
        keys.PK: keys.dataset_pk(record.dataset),
        keys.SK: keys.snapshot_sk(record.snapshot_id),
        "kind": "snapshot",
        **body,
    }


class SnapshotRepository:
    """Snapshot records, the ``LATEST`` pointer and applied-batch markers in the table."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self.table_name = table_name
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            self._ddb = aws.client("dynamodb")
        return self._ddb

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self.ddb.get_item(
                TableName=self.table_name,
                Key={keys.PK: {"S": pk}, keys.SK: {"S": sk}},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise LakeStorageError(f"cannot read {pk}/{sk}") from exc
        item = response.get("Item")
        return _deserialize(item) if item else None

    def latest(self, dataset: str) -> SnapshotRecord | None:
        pointer = self._get(keys.dataset_pk(dataset), keys.LATEST_SNAPSHOT_SK)
        if pointer is None:
            return None
        return self.get(dataset, str(pointer["snapshot_id"]))

    def get(self, dataset: str, snapshot_id: str) -> SnapshotRecord | None:
        item = self._get(keys.dataset_pk(dataset), keys.snapshot_sk(snapshot_id))
        return SnapshotRecord.model_validate(item) if item else None

    def history(self, dataset: str) -> list[SnapshotRecord]:
        """All snapshots of ``dataset``, oldest first."""
        records: list[SnapshotRecord] = []
        try:
            pages = self.ddb.get_paginator("query").paginate(
                TableName=self.table_name,
                KeyConditionExpression="#pk = :pk AND begins_with(#sk, :snap)",
                ExpressionAttributeNames={"#pk": keys.PK, "#sk": keys.SK},
                ExpressionAttributeValues={
                    ":pk": {"S": keys.dataset_pk(dataset)},
                    ":snap": {"S": keys.snapshot_sk("")},
                },
            )
            for page in pages:
                records.extend(
                    SnapshotRecord.model_validate(_deserialize(i)) for i in page["Items"]
                )
        except ClientError as exc:
            raise LakeStorageError(f"cannot list snapshots of {dataset}") from exc
        return records

    def publish(self, record: SnapshotRecord) -> None:
        """Write the immutable snapshot item and move ``LATEST`` to it, atomically.

        The pointer moves only if it still points at ``record.parent_id`` (optimistic lock):
        a concurrent publisher raises :class:`SnapshotConflictError`, never a lost update.
        """
        pk = keys.dataset_pk(record.dataset)
        pointer: dict[str, Any] = {
            keys.PK: pk,
            keys.SK: keys.LATEST_SNAPSHOT_SK,
            "kind": "snapshot_pointer",
            "snapshot_id": record.snapshot_id,
            "updated_at": record.created_at,
        }
        if record.parent_id is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(#pk)"}
            names = {"#pk": keys.PK}
            values: dict[str, Any] = {}
        else:
            condition = {"ConditionExpression": "snapshot_id = :parent"}
            names = {}
            values = {":parent": {"S": record.parent_id}}
        put_pointer: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _serialize(pointer),
            **condition,
        }
        if names:
            put_pointer["ExpressionAttributeNames"] = names
        if values:
            put_pointer["ExpressionAttributeValues"] = values
        try:
            self.ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _serialize(_record_item(record)),
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": keys.PK},
                        }
                    },
                    {"Put": put_pointer},
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise SnapshotConflictError(
                    f"{record.dataset}: LATEST moved away from {record.parent_id}"
                ) from exc
            raise LakeStorageError(f"cannot publish snapshot of {record.dataset}") from exc

    def applied_batch(self, dataset: str, batch_sha: str) -> dict[str, Any] | None:
        """The marker of a batch already applied to ``dataset``, if any."""
        return self._get(keys.dataset_pk(dataset), keys.batch_sk(batch_sha))

    def mark_batch(self, dataset: str, batch_sha: str, snapshot_id: str | None, at: str) -> None:
        item = {
            keys.PK: keys.dataset_pk(dataset),
            keys.SK: keys.batch_sk(batch_sha),
            "kind": "batch",
            "snapshot_id": snapshot_id,
            "applied_at": at,
        }
        try:
            self.ddb.put_item(TableName=self.table_name, Item=_serialize(item))
        except ClientError as exc:
            raise LakeStorageError(f"cannot mark batch of {dataset}") from exc

    def applied_source_batch(self, source: str, fingerprint: str) -> dict[str, Any] | None:
        key = keys.source_batch_key(source, fingerprint)
        return self._get(key[keys.PK], key[keys.SK])

    def mark_source_batch(self, source: str, fingerprint: str, run_id: str, at: str) -> None:
        item = {
            **keys.source_batch_key(source, fingerprint),
            "kind": "source_batch",
            "run_id": run_id,
            "applied_at": at,
        }
        try:
            self.ddb.put_item(TableName=self.table_name, Item=_serialize(item))
        except ClientError as exc:
            raise LakeStorageError(f"cannot mark batch of {source}") from exc

    def put_ingestion(self, run_id: str, created_at: str, summary: dict[str, Any]) -> None:
        """Store an ingestion run's summary (JSON body, listable newest first via GSI1)."""
        item = {
            **keys.ingest_key(run_id),
            keys.GSI1PK: keys.INGESTS_GSI1PK,
            keys.GSI1SK: keys.owner_sk(created_at, run_id),
            "kind": "ingestion",
            "run_id": run_id,
            "status": summary.get("status", "unknown"),
            "created_at": created_at,
            "summary": json.dumps(summary, sort_keys=True, default=str),
        }
        try:
            self.ddb.put_item(TableName=self.table_name, Item=_serialize(item))
        except ClientError as exc:
            raise LakeStorageError(f"cannot store ingestion run {run_id}") from exc

    def get_ingestion(self, run_id: str) -> dict[str, Any] | None:
        key = keys.ingest_key(run_id)
        item = self._get(key[keys.PK], key[keys.SK])
        if item is None:
            return None
        summary: dict[str, Any] = json.loads(item["summary"])
        return summary
