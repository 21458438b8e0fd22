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

    def link(self, key: str, expires_in: int, download_as: str | None = None) -> str:
        """A presigned GET URL of ``key`` (signed locally: no request); ``download_as`` makes
        browsers save the file under that name instead of showing it."""
        params = {"Bucket": self.bucket, "Key": key}
        if download_as:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_as}"'
        url: str = aws.client("s3").generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )
        return url

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
