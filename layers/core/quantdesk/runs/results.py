"""Run payloads in S3 (DynamoDB items are capped at 400 KB): the run item keeps a summary and
the key."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable

SUMMARY_ROWS = 10


def result_key(run_id: str) -> str:
    return f"runs/{run_id}/result.json"


class ResultStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, run_id: str, body: bytes) -> str:
        key = result_key(run_id)
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json"
        )
        return key

    def get(self, key: str) -> dict[str, Any]:
        try:
            body = aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise ServiceUnavailable("could not read the run's result") from exc
        loaded: dict[str, Any] = json.loads(body)
        return loaded


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """What the run item (and the ``result`` event) carries: the headline and the top rows."""
    return {
        "summary": result.get("summary", ""),
        "as_of": result.get("as_of"),
        "row_count": len(result.get("rows", [])),
        "columns": [c["name"] for c in result.get("columns", [])],
        "top_rows": result.get("rows", [])[:SUMMARY_ROWS],
    }
