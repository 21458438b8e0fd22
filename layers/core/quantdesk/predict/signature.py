"""The ``MLmodel`` file of a model directory in MLflow's format: which flavor holds the model,
the input signature (column names, types, required) and the params schema.

Only what serving needs is read; the file is YAML whose ``signature`` entries are JSON strings
(as ``mlflow.models.ModelSignature`` writes them). Models must have a column-based signature
(``{"name", "type"}`` entries) of the scalar types below, and the ONNX flavor.
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from quantdesk.predict.errors import UnsupportedModel
from quantdesk.predict.models import COLUMN_TYPES, ColumnSpec, ParamSpec

FLAVOR: Final = "onnx"
MLMODEL: Final = "MLmodel"


class ModelSpec(BaseModel):
    """What serving reads from an ``MLmodel`` file."""

    flavor: Literal["onnx"] = FLAVOR
    model_file: str = Field(description="the ONNX file, relative to the model directory")
    inputs: list[ColumnSpec]
    params: list[ParamSpec] = []
    run_id: str | None = None


def parse_mlmodel(text: str) -> ModelSpec:
    """The spec of an ``MLmodel`` file; :class:`UnsupportedModel` names what cannot be served."""
    import yaml  # noqa: PLC0415 - the contract imports the models here, not the YAML parser

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UnsupportedModel(f"{MLMODEL} is not valid YAML: {exc}", field=MLMODEL) from exc
    if not isinstance(document, dict):
        raise UnsupportedModel(f"{MLMODEL} is not a mapping", field=MLMODEL)
    flavors = document.get("flavors") or {}
    onnx = flavors.get(FLAVOR)
    if not isinstance(onnx, dict) or not onnx.get("data"):
        found = ", ".join(sorted(flavors)) or "none"
        raise UnsupportedModel(
            f"only the ONNX flavor is served (this model's flavors: {found}); log it with "
            "mlflow.onnx.log_model",
            field="flavors",
        )
    signature = document.get("signature") or {}
    if not signature.get("inputs"):
        raise UnsupportedModel("the model has no input signature", field="signature.inputs")
    return ModelSpec(
        model_file=str(onnx["data"]),
        inputs=_columns(signature["inputs"]),
        params=_params(signature.get("params")),
        run_id=document.get("run_id"),
    )


def _entries(raw: Any, field: str) -> list[dict[str, Any]]:
    try:
        entries = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise UnsupportedModel(f"{field} is not JSON", field=field) from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UnsupportedModel(f"{field} is not a list of specs", field=field)
    return entries


def _columns(raw: Any) -> list[ColumnSpec]:
    columns = []
    for entry in _entries(raw, "signature.inputs"):
        name, kind = entry.get("name"), entry.get("type")
        if not name or kind not in COLUMN_TYPES:
            raise UnsupportedModel(
                "only column-based signatures of the types "
                f"{', '.join(COLUMN_TYPES)} are served (got {json.dumps(entry)[:80]})",
                field="signature.inputs",
            )
        columns.append(ColumnSpec(name=name, type=kind, required=entry.get("required", True)))
    return columns


def _params(raw: Any) -> list[ParamSpec]:
    if not raw:
        return []
    params = []
    for entry in _entries(raw, "signature.params"):
        if entry.get("type") not in COLUMN_TYPES or entry.get("shape") is not None:
            raise UnsupportedModel(
                f"only scalar params are served (got {json.dumps(entry)[:80]})",
                field="signature.params",
            )
        params.append(
            ParamSpec(name=entry["name"], type=entry["type"], default=entry.get("default"))
        )
    return params
