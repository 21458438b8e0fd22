"""The wire models of ``/predict`` (``GET /predict/models`` and the scoring answer)."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

ColumnType = Literal["boolean", "integer", "long", "float", "double", "string"]
COLUMN_TYPES: Final = ("boolean", "integer", "long", "float", "double", "string")


class ColumnSpec(BaseModel):
    """One input column of the signature."""

    name: str
    type: ColumnType
    required: bool = Field(
        True, description="a required column must be present and hold no null/NaN"
    )


class ParamSpec(BaseModel):
    """One inference parameter (``params`` in a request) the model accepts."""

    name: str
    type: ColumnType
    default: Any = None


class DataFrameSplit(BaseModel):
    """``pandas.DataFrame.to_dict(orient="split")``: column names and rows (index ignored)."""

    model_config = ConfigDict(extra="ignore")

    columns: list[str]
    data: list[list[Any]]
    index: list[Any] | None = None


class ScoringRequest(BaseModel):
    """A JSON scoring request: exactly one of the four input formats, and optional params."""

    model_config = ConfigDict(extra="ignore")

    dataframe_split: DataFrameSplit | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    instances: list[dict[str, Any]] | None = None
    inputs: dict[str, list[Any]] | list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None


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
