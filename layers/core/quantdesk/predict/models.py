"""The wire models of ``/predict`` (``GET /predict/models`` and the scoring answer)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from quantdesk.predict.signature import ColumnSpec, ParamSpec


class ModelVersionView(BaseModel):
    version: int
    created_at: str
    source: str = Field(description="where it was registered from (path or MLflow URI)")
    aliases: list[str]
    inputs: list[ColumnSpec] = Field(description="the input signature: columns and types")
    params: list[ParamSpec] = Field(description="inference params the model accepts")


class RegisteredModelView(BaseModel):
    name: str
    aliases: dict[str, int] = Field(description="alias -> version")
    versions: list[ModelVersionView]


class ModelListing(BaseModel):
    default_model: str = Field(description="the model POST /predict scores (its alias below)")
    default_alias: str
    max_rows: int = Field(description="rows accepted per scoring request")
    models: list[RegisteredModelView]


class Predictions(BaseModel):
    """What ``mlflow models serve`` answers: one object per row, keyed by output name."""

    predictions: list[dict[str, Any]]
