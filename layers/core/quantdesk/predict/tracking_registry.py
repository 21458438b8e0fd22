"""Registered models, versions and aliases read from an MLflow tracking server's Model Registry
(``QD_PREDICT_TRACKING_URI``), served like the ones in our own registry.

Reads only: models are registered and aliases moved with MLflow itself (``mlflow.register_model``,
``MlflowClient.set_registered_model_alias``, the MLflow UI). Cost per request: an alias or
version number resolves with one REST call at most every ``ttl_s`` seconds per container (so an
alias moved on the server takes effect within ``ttl_s``, without a redeploy); a version's
``MLmodel`` is read once per container (a version's artifacts never change), its ONNX file once
when it is loaded. When the server cannot be reached, an alias keeps the version it last
resolved to.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from quantdesk.errors import QuantdeskError, ServiceUnavailable, quoted
from quantdesk.observability import logger
from quantdesk.predict.errors import ModelUnavailable, UnknownModel
from quantdesk.predict.onnx_model import OnnxModel
from quantdesk.predict.registry import VERSION_PATTERN, ModelVersion, RegisteredModel
from quantdesk.predict.signature import MLMODEL, parse_mlmodel
from quantdesk.predict.tracking_client import Answer, ArtifactMissing, TrackingClient

PAGE: Final = "100"


class TrackingRegistry:
    def __init__(
        self,
        client: TrackingClient,
        ttl_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        #: (name, ref) -> (version, when resolved)
        self._resolved: dict[tuple[str, str], tuple[int, float]] = {}
        #: (name, version) -> the version with its MLmodel, and where its artifacts are
        self._records: dict[tuple[str, int], tuple[ModelVersion, str]] = {}

    # -- what serving reads -------------------------------------------------------------------
    def resolve(self, name: str, ref: str) -> int:
        """The version ``ref`` (a version number or an alias) names, checked on the server at
        most every ``ttl_s`` seconds; 404 when there is none."""
        key = (name, ref)
        with self._lock:
            known = self._resolved.get(key)
        if known is not None and self.clock() - known[1] < self.ttl_s:
            return known[0]
        try:
            version = self._lookup(name, ref)
        except ServiceUnavailable:
            if known is None:
                raise
            logger.warning(
                "tracking server unreachable: keeping the last resolution",
                extra={"model": name, "ref": ref, "version": known[0]},
            )
            return known[0]
        with self._lock:
            self._resolved[key] = (version, self.clock())
        return version

    def version(self, name: str, version: int) -> ModelVersion:
        return self._record(name, version)[0]

    def load(self, record: ModelVersion) -> OnnxModel:
        """The version's model from the server's artifacts; 503 when missing or corrupt."""
        _, artifact_uri = self._record(record.name, record.version)

        def read(path: str) -> bytes:
            if path == MLMODEL:
                return record.mlmodel.encode("utf-8")
            return self._artifact(record.name, record.version, artifact_uri, path)

        try:
            return OnnxModel.load(read)
        except ServiceUnavailable:  # a missing file, or the server: already says which
            raise
        except QuantdeskError as exc:
            raise _unavailable(record.name, record.version, exc.message) from exc

    def names(self) -> list[str]:
        names: list[str] = []
        token = ""
        while True:
            params = {"max_results": PAGE, **({"page_token": token} if token else {})}
            answer = self._ok(self.client.get("registered-models/search", **params), "search")
            names += [m["name"] for m in answer.get("registered_models", [])]
            token = answer.get("next_page_token", "")
            if not token:
                return sorted(names)

    def model(self, name: str) -> RegisteredModel:
        """The model's servable versions (those whose ``MLmodel`` reads and parses: the others
        are left out of the listing, logged) and its aliases."""
        answer = self.client.get("registered-models/get", name=name)
        if answer.status == 404:
            raise UnknownModel(f"no registered model {quoted(name)}", field="model")
        model = self._ok(answer, "registered-models/get")["registered_model"]
        aliases = {a["alias"]: int(a["version"]) for a in model.get("aliases", [])}
        versions = []
        for number in self._version_numbers(name):
            try:
                record = self.version(name, number)
                record.spec  # noqa: B018 - parses: the listing shows its signature
            except QuantdeskError as exc:
                logger.warning(
                    "version left out of the listing",
                    extra={"model": name, "version": number, "reason": exc.message},
                )
                continue
            versions.append(record)
        return RegisteredModel(name=name, versions=versions, aliases=aliases)

    # -- the REST calls -------------------------------------------------------------------------
    def _lookup(self, name: str, ref: str) -> int:
        if VERSION_PATTERN.match(ref):
            self._version_info(name, int(ref))
            return int(ref)
        answer = self.client.get("registered-models/alias", name=name, alias=ref)
        if answer.status == 200:
            return int(answer.body["model_version"]["version"])
        self._require_model(name)
        raise UnknownModel(f"model {quoted(name)} has no alias {quoted(ref)}", field="alias")

    def _record(self, name: str, version: int) -> tuple[ModelVersion, str]:
        key = (name, version)
        with self._lock:
            cached = self._records.get(key)
        if cached is not None:
            return cached
        info = self._version_info(name, version)
        if info.get("status", "READY") != "READY":
            raise _unavailable(name, version, f"its registration is {info['status']}")
        where = self.client.get("model-versions/get-download-uri", name=name, version=str(version))
        artifact_uri = str(self._ok(where, "get-download-uri").get("artifact_uri", ""))
        mlmodel = self._artifact(name, version, artifact_uri, MLMODEL)
        try:
            text = mlmodel.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _unavailable(name, version, f"its {MLMODEL} is not UTF-8 text") from exc
        record = ModelVersion(
            name=name,
            version=version,
            source=str(info.get("source", "")),
            created_at=_iso(info.get("creation_timestamp")),
            mlmodel=text,
            files=[],
        )
        try:
            parse_mlmodel(text)  # a version that cannot serve is refused before it is cached
        except QuantdeskError as exc:
            raise _unavailable(name, version, exc.message) from exc
        with self._lock:
            self._records[key] = (record, artifact_uri)
        return record, artifact_uri

    def _version_info(self, name: str, version: int) -> dict[str, Any]:
        answer = self.client.get("model-versions/get", name=name, version=str(version))
        if answer.status != 200:
            self._require_model(name)
            raise UnknownModel(f"model {quoted(name)} has no version {version}", field="version")
        info: dict[str, Any] = answer.body["model_version"]
        return info

    def _version_numbers(self, name: str) -> list[int]:
        numbers: list[int] = []
        token = ""
        escaped = name.replace("'", "\\'")
        while True:
            params = {"filter": f"name='{escaped}'", "max_results": PAGE}
            if token:
                params["page_token"] = token
            answer = self._ok(self.client.get("model-versions/search", **params), "search")
            numbers += [int(v["version"]) for v in answer.get("model_versions", [])]
            token = answer.get("next_page_token", "")
            if not token:
                return sorted(numbers)

    def _require_model(self, name: str) -> None:
        answer = self.client.get("registered-models/get", name=name)
        if answer.status != 200:
            raise UnknownModel(f"no registered model {quoted(name)}", field="model")

    def _artifact(self, name: str, version: int, artifact_uri: str, path: str) -> bytes:
        try:
            return self.client.read_artifact(artifact_uri, path)
        except ArtifactMissing as exc:
            raise _unavailable(name, version, str(exc)) from exc

    @staticmethod
    def _ok(answer: Answer, what: str) -> dict[str, Any]:
        if answer.status != 200:
            raise ServiceUnavailable(
                f"the MLflow tracking server refused {what} ({answer.status}: "
                f"{answer.error_code or 'no error code'})",
                field="model",
            )
        body: dict[str, Any] = answer.body
        return body


def _unavailable(name: str, version: int, reason: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"model {name} version {version} cannot be loaded ({reason}); point the alias at "
        "another version",
        field="model",
    )


def _iso(millis: Any) -> str:
    if not isinstance(millis, int | str) or not str(millis).isdigit():
        return ""
    return dt.datetime.fromtimestamp(int(millis) / 1000, dt.UTC).isoformat(timespec="seconds")
