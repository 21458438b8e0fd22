"""The model registry: each version's files (a model directory in MLflow's format) in the data
bucket under ``models/<name>/<version>/``, and in the table

| item          | PK            | SK                  | GSI1PK | GSI1SK |
|---------------|---------------|---------------------|--------|--------|
| model         | MODEL#<name>  | MODEL               | MODELS | <name> |
| model version | MODEL#<name>  | VERSION#<n:06d>     |        |        |
| alias         | MODEL#<name>  | ALIAS#<alias>       |        |        |

A version is recorded only once all its files are stored and it loads, so a listed version is
servable; an alias moves only to a version that loads (the one it pointed to keeps serving
otherwise). The only predict code that touches AWS.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Final

from botocore.exceptions import ClientError
from pydantic import BaseModel

from quantdesk import aws, keys
from quantdesk.errors import InvalidRequest, ServiceUnavailable, quoted
from quantdesk.predict.errors import ModelUnavailable, UnknownModel
from quantdesk.predict.onnx_model import OnnxModel
from quantdesk.predict.signature import MLMODEL, ModelSpec, parse_mlmodel

PREFIX: Final = "models"
MODELS_GSI1PK: Final = "MODELS"
MODEL_SK: Final = "MODEL"
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: not all digits: a path segment of digits is a version number
ALIAS_PATTERN: Final = re.compile(r"^(?!\d+$)[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
VERSION_PATTERN: Final = re.compile(r"^[0-9]{1,9}$")
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


class ModelVersion(BaseModel):
    name: str
    version: int
    source: str
    created_at: str
    mlmodel: str
    files: list[str]

    @property
    def spec(self) -> ModelSpec:
        return parse_mlmodel(self.mlmodel)


class RegisteredModel(BaseModel):
    name: str
    versions: list[ModelVersion]
    aliases: dict[str, int]


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise InvalidRequest(
            f"model name {quoted(name)}: letters, digits, '_', '.', '-' (64 at most)", field="name"
        )
    return name


def check_alias(alias: str) -> str:
    if not ALIAS_PATTERN.match(alias):
        raise InvalidRequest(
            f"alias {quoted(alias)}: letters, digits, '_', '-', not all digits (32 at most)",
            field="alias",
        )
    return alias


def _pk(name: str) -> str:
    return f"MODEL#{name}"


def _version_sk(version: int) -> str:
    return f"VERSION#{version:06d}"


def _alias_sk(alias: str) -> str:
    return f"ALIAS#{alias}"


class ModelRegistry:
    def __init__(self, table: str, bucket: str) -> None:
        self.table = table
        self.bucket = bucket

    # -- writes (the CLI) --------------------------------------------------------------------
    def register(self, name: str, files: Mapping[str, bytes], source: str) -> ModelVersion:
        """Store a model directory (``{relative path: bytes}``) as the model's next version."""
        check_name(name)
        if MLMODEL not in files:
            raise InvalidRequest(f"no {MLMODEL} file in {source}", field="path")
        OnnxModel.load(lambda path: _file(files, path))  # refuses what could not serve
        version = self._next_version(name)
        prefix = f"{PREFIX}/{name}/{version}"
        for path, data in sorted(files.items()):
            self._s3("put_object", Bucket=self.bucket, Key=f"{prefix}/{path}", Body=data)
        record = ModelVersion(
            name=name,
            version=version,
            source=source,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            mlmodel=files[MLMODEL].decode("utf-8"),
            files=sorted(files),
        )
        self._db(
            "put_item",
            TableName=self.table,
            Item={
                keys.PK: {"S": _pk(name)},
                keys.SK: {"S": _version_sk(version)},
                "version": {"N": str(version)},
                "source": {"S": source},
                "created_at": {"S": record.created_at},
                "mlmodel": {"S": record.mlmodel},
                "files": {"L": [{"S": f} for f in record.files]},
            },
        )
        return record

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``, once that version is known to load."""
        check_alias(alias)
        self.load(self.version(name, version))
        self._db(
            "put_item",
            TableName=self.table,
            Item={
                keys.PK: {"S": _pk(name)},
                keys.SK: {"S": _alias_sk(alias)},
                "version": {"N": str(version)},
            },
        )

    def delete(self, name: str, version: int | None = None) -> list[int]:
        """Delete one version (and the aliases on it) or, without ``version``, the model."""
        model = self.model(name)
        doomed = [v for v in model.versions if version is None or v.version == version]
        if version is not None and not doomed:
            raise UnknownModel(f"model {quoted(name)} has no version {version}", field="version")
        for record in doomed:
            for path in record.files:
                self._s3("delete_object", Bucket=self.bucket, Key=_key(record, path))
            self._delete_item(name, _version_sk(record.version))
        gone = {v.version for v in doomed}
        for alias, target in model.aliases.items():
            if target in gone:
                self._delete_item(name, _alias_sk(alias))
        if version is None:
            self._delete_item(name, MODEL_SK)
        return sorted(gone)

    # -- reads (serving and the CLI) ----------------------------------------------------------
    def names(self) -> list[str]:
        items = self._query(
            IndexName=keys.GSI1,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.GSI1PK},
            ExpressionAttributeValues={":pk": {"S": MODELS_GSI1PK}},
        )
        return sorted(item["name"]["S"] for item in items)

    def model(self, name: str) -> RegisteredModel:
        items = self._query(
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.PK},
            ExpressionAttributeValues={":pk": {"S": _pk(name)}},
        )
        if not items:
            raise UnknownModel(f"no registered model {quoted(name)}", field="model")
        versions, aliases = [], {}
        for item in items:
            sk = item[keys.SK]["S"]
            if sk.startswith("VERSION#"):
                versions.append(_version(name, item))
            elif sk.startswith("ALIAS#"):
                aliases[sk.removeprefix("ALIAS#")] = int(item["version"]["N"])
        return RegisteredModel(name=name, versions=versions, aliases=aliases)

    def resolve(self, name: str, ref: str) -> int:
        """The version ``ref`` (a version number or an alias) names; 404 when none (names that
        could not have been registered never reach the table)."""
        if not NAME_PATTERN.match(name):
            raise UnknownModel(f"no registered model {quoted(name)}", field="model")
        if VERSION_PATTERN.match(ref):
            return self.version(name, int(ref)).version
        if not ALIAS_PATTERN.match(ref):
            raise UnknownModel(f"model {quoted(name)} has no alias {quoted(ref)}", field="alias")
        item = self._get(name, _alias_sk(ref))
        if item is None:
            self._require_model(name)
            raise UnknownModel(f"model {quoted(name)} has no alias {quoted(ref)}", field="alias")
        return int(item["version"]["N"])

    def version(self, name: str, version: int) -> ModelVersion:
        item = self._get(name, _version_sk(version))
        if item is None:
            self._require_model(name)
            raise UnknownModel(f"model {quoted(name)} has no version {version}", field="version")
        return _version(name, item)

    def _require_model(self, name: str) -> None:
        if self._get(name, MODEL_SK) is None:
            raise UnknownModel(f"no registered model {quoted(name)}", field="model")

    def load(self, record: ModelVersion) -> OnnxModel:
        """The version's model from its stored files; 503 when they are missing or corrupt."""
        try:
            return OnnxModel.load(lambda path: self._read(record, path))
        except InvalidRequest as exc:
            raise ModelUnavailable(
                f"model {record.name} version {record.version} cannot be loaded "
                f"({exc.message}); point the alias at another version",
                field="model",
            ) from exc

    # -- storage -------------------------------------------------------------------------------
    def _read(self, record: ModelVersion, path: str) -> bytes:
        key = _key(record, path)
        try:
            body: bytes = aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise ModelUnavailable(
                    f"model {record.name} version {record.version} is missing its file {path}; "
                    "point the alias at another version",
                    field="model",
                ) from exc
            raise ServiceUnavailable("the model store could not be read") from exc
        return body

    def _next_version(self, name: str) -> int:
        result = self._db(
            "update_item",
            TableName=self.table,
            Key={keys.PK: {"S": _pk(name)}, keys.SK: {"S": MODEL_SK}},
            UpdateExpression="ADD latest_version :one SET #name = :name, #g1pk = :models, "
            "#g1sk = :name",
            ExpressionAttributeNames={"#name": "name", "#g1pk": keys.GSI1PK, "#g1sk": keys.GSI1SK},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":name": {"S": name},
                ":models": {"S": MODELS_GSI1PK},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["latest_version"]["N"])

    def _get(self, name: str, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._db(
            "get_item",
            TableName=self.table,
            Key={keys.PK: {"S": _pk(name)}, keys.SK: {"S": sk}},
        ).get("Item")
        return item

    def _delete_item(self, name: str, sk: str) -> None:
        self._db(
            "delete_item", TableName=self.table, Key={keys.PK: {"S": _pk(name)}, keys.SK: {"S": sk}}
        )

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self._db(
                "query",
                TableName=self.table,
                **kwargs,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def _db(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(aws.client("dynamodb"), operation)(**kwargs)
        except ClientError as exc:
            raise ServiceUnavailable("the model registry (DynamoDB) failed; retry") from exc

    def _s3(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(aws.client("s3"), operation)(**kwargs)
        except ClientError as exc:
            raise ServiceUnavailable("the model store (S3) failed; retry") from exc


def _key(record: ModelVersion, path: str) -> str:
    return f"{PREFIX}/{record.name}/{record.version}/{path}"


def _file(files: Mapping[str, bytes], path: str) -> bytes:
    if path not in files:
        raise InvalidRequest(f"the model directory has no {path}", field="path")
    return files[path]


def _version(name: str, item: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=name,
        version=int(item["version"]["N"]),
        source=item["source"]["S"],
        created_at=item["created_at"]["S"],
        mlmodel=item["mlmodel"]["S"],
        files=[f["S"] for f in item["files"]["L"]],
    )
