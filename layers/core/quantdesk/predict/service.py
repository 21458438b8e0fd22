"""Scoring: resolve the alias on every request (an alias moved with ``quantdesk models alias``
takes effect at once, without a redeploy; on a tracking server, within its ``alias_ttl_s``),
load each version once per container, score.

A version that cannot load answers 503 and is not cached, so a repaired one is picked up; the
versions already loaded keep serving from memory. An alias moved to such a version keeps
answering with the version this container last served it with (logged as an error); a
container that never served it answers 503.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from quantdesk.errors import UnsupportedMediaType
from quantdesk.observability import logger
from quantdesk.predict.errors import ModelUnavailable
from quantdesk.predict.models import ModelListing, ModelVersionView, RegisteredModelView
from quantdesk.predict.onnx_model import OnnxModel
from quantdesk.predict.protocol import (
    ScoringRequest,
    check_rows,
    columns_of,
    columns_of_csv,
    enforce,
    enforce_params,
)
from quantdesk.predict.registry import ModelVersion, RegisteredModel
from quantdesk.predict.settings import PredictSettings

JSON = "application/json"
CSV = "text/csv"


class Registry(Protocol):
    """What serving reads: our own registry (``registry``) or a tracking server's
    (``tracking_registry``)."""

    def resolve(self, name: str, ref: str) -> int: ...
    def version(self, name: str, version: int) -> ModelVersion: ...
    def load(self, record: ModelVersion) -> OnnxModel: ...
    def names(self) -> list[str]: ...
    def model(self, name: str) -> RegisteredModel: ...


class PredictService:
    def __init__(self, registry: Registry, settings: PredictSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._loaded: dict[tuple[str, int], OnnxModel] = {}
        #: (name, ref) -> the version that last answered it
        self._served: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def model(self, name: str, ref: str) -> tuple[int, OnnxModel]:
        version = self.registry.resolve(name, ref)
        with self._lock:
            cached = self._loaded.get((name, version))
            previous = self._served.get((name, ref))
        if cached is None:
            try:
                cached = self.registry.load(self.registry.version(name, version))
            except ModelUnavailable as exc:
                if previous is None or previous == version:
                    raise
                logger.error(
                    "the alias points at a version that cannot load: the previous one serves",
                    extra={
                        "model": name,
                        "ref": ref,
                        "version": version,
                        "serving": previous,
                        "reason": exc.message,
                    },
                )
                with self._lock:
                    return previous, self._loaded[(name, previous)]
            logger.info("model loaded", extra={"model": name, "version": version})
        with self._lock:
            self._loaded[(name, version)] = cached
            self._served[(name, ref)] = version
        return version, cached

    def predict(
        self, name: str | None, ref: str | None, payload: ScoringRequest | bytes
    ) -> tuple[int, dict[str, Any]]:
        """Score a JSON request or a ``text/csv`` body (bytes) with the model ``ref`` names
        (default: the configured model's alias)."""
        name = name or self.settings.default_model
        ref = ref or self.settings.default_alias
        version, model = self.model(name, ref)
        csv = isinstance(payload, bytes)
        if isinstance(payload, bytes):
            kind, columns, rows = columns_of_csv(payload)
            params: dict[str, Any] | None = None
        else:
            kind, columns, rows = columns_of(payload)
            params = payload.params
        check_rows(kind, rows, self.settings.max_rows)
        typed = enforce(columns, model.spec.inputs, from_csv=csv)
        predictions = model.predict(typed, enforce_params(params, model.spec.params))
        logger.info(
            "scored", extra={"model": name, "version": version, "rows": rows, "format": kind}
        )
        return version, {"predictions": predictions}

    def listing(self) -> ModelListing:
        models = []
        for name in self.registry.names():
            model = self.registry.model(name)
            by_version: dict[int, list[str]] = {}
            for alias, version in sorted(model.aliases.items()):
                by_version.setdefault(version, []).append(alias)
            versions = []
            for record in model.versions:
                spec = record.spec
                versions.append(
                    ModelVersionView(
                        version=record.version,
                        created_at=record.created_at,
                        source=record.source,
                        aliases=by_version.get(record.version, []),
                        inputs=spec.inputs,
                        params=spec.params,
                    )
                )
            models.append(RegisteredModelView(name=name, aliases=model.aliases, versions=versions))
        return ModelListing(
            default_model=self.settings.default_model,
            default_alias=self.settings.default_alias,
            max_rows=self.settings.max_rows,
            models=models,
        )


def media_type(content_type: str | None) -> str:
    """``application/json`` (the default) or ``text/csv``, UTF-8; anything else is a 415."""
    media, _, parameters = (content_type or JSON).partition(";")
    media = media.strip().lower()
    charset = parameters.strip().lower().removeprefix("charset=").strip() or "utf-8"
    if media not in (JSON, CSV) or charset != "utf-8":
        raise UnsupportedMediaType(
            f"send {JSON} or {CSV} (UTF-8), not {content_type}", field="Content-Type"
        )
    return media
