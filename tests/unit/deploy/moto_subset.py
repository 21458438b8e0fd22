"""The packaged template as moto's CloudFormation can create it, and its code uploaded the way
``aws cloudformation package`` would (S3 locations instead of local paths)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from moto.cloudformation.parsing import get_model_map

from tests.unit.deploy.template_refs import without

#: moto 5.2.5 creates a RestApi without its Body, so a Deployment of it has no methods
CREATED_EMPTY = {"AWS::ApiGateway::Deployment"}


def unsupported_types(template: dict[str, Any]) -> set[str]:
    types = {r["Type"] for r in template["Resources"].values()}
    return {t for t in types if t not in get_model_map()} | (types & CREATED_EMPTY)


def creatable(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    return without(template, unsupported_types(template))


def placeholder_layer() -> bytes:
    """moto stores layers and never runs them: an empty python/ tree stands in when the real
    layers (make package) are not built."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/", "")
    return buffer.getvalue()


def upload_code(template: dict[str, Any], dist: Path, s3: Any, bucket: str) -> None:
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("Code", "Content"):
            path = props.get(key)
            if isinstance(path, str):
                local = dist / path
                body = local.read_bytes() if local.exists() else placeholder_layer()
                s3.put_object(Bucket=bucket, Key=path, Body=body)
                props[key] = {"S3Bucket": bucket, "S3Key": path}


def dumps(template: dict[str, Any]) -> str:
    return json.dumps(template)
