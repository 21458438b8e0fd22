"""MLflow's scoring protocol, as ``mlflow models serve`` speaks it, checked against a model's
signature.

A JSON body holds exactly one of ``dataframe_split`` (``{"columns", "data"}``),
``dataframe_records`` (a list of objects), ``instances`` (a list of objects) or ``inputs``
(an object of columns, or a list of objects), and optionally ``params``; a ``text/csv`` body is
a header line and rows. Every format becomes the same columns; :func:`enforce` then keeps the
signature's columns (extra ones are ignored, as MLflow does) and types them: a missing or
mistyped column, a null/NaN in a required column, or more rows than allowed is a 400 naming it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from quantdesk.errors import quoted
from quantdesk.predict.errors import BadScoringInput
from quantdesk.predict.models import ColumnSpec, DataFrameSplit, ParamSpec, ScoringRequest

FORMATS: Final = ("dataframe_split", "dataframe_records", "instances", "inputs")
DTYPES: Final = {
    "boolean": np.bool_,
    "integer": np.int32,
    "long": np.int64,
    "float": np.float32,
    "double": np.float64,
    "string": np.object_,
}
_CSV_TRUE: Final = frozenset({"true", "1"})
_CSV_FALSE: Final = frozenset({"false", "0"})

Columns = dict[str, list[Any]]


def columns_of(request: ScoringRequest) -> tuple[str, Columns, int]:
    """``(format, columns, rows)`` of a JSON request."""
    given = [name for name in FORMATS if getattr(request, name) is not None]
    if len(given) != 1:
        raise BadScoringInput(
            f"the body must hold exactly one of {', '.join(FORMATS)} (got "
            f"{', '.join(given) or 'none'})",
            field="body",
        )
    (kind,) = given
    if request.dataframe_split is not None:
        return kind, _from_split(request.dataframe_split), len(request.dataframe_split.data)
    value = getattr(request, kind)
    if isinstance(value, dict):
        return kind, _from_column_lists(value, kind), _length(value)
    return kind, _from_records(value), len(value)


def columns_of_csv(body: bytes) -> tuple[str, Columns, int]:
    """``("csv", columns, rows)`` of a ``text/csv`` body (a header line, then rows)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadScoringInput("a CSV body must be UTF-8", field="body") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0]:
        raise BadScoringInput("a CSV body needs a header line naming the columns", field="body")
    header, data = rows[0], [r for r in rows[1:] if r]
    for number, row in enumerate(data, start=2):
        if len(row) != len(header):
            raise BadScoringInput(
                f"CSV line {number} has {len(row)} fields, the header {len(header)}",
                field="body",
            )
    columns = {name: [row[i] for row in data] for i, name in enumerate(header)}
    return "csv", columns, len(data)


def _from_split(split: DataFrameSplit) -> Columns:
    width = len(split.columns)
    for i, row in enumerate(split.data):
        if len(row) != width:
            raise BadScoringInput(
                f"row {i} has {len(row)} values for {width} columns",
                field=f"dataframe_split.data.{i}",
            )
    return {name: [row[i] for row in split.data] for i, name in enumerate(split.columns)}


def _from_records(records: list[dict[str, Any]]) -> Columns:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return {name: [record.get(name) for record in records] for name in names}


def _from_column_lists(value: dict[str, list[Any]], kind: str) -> Columns:
    lengths = {len(v) for v in value.values()}
    if len(lengths) > 1:
        raise BadScoringInput(f"the columns of {kind} differ in length", field=kind)
    return dict(value)


def _length(value: dict[str, list[Any]]) -> int:
    return len(next(iter(value.values()))) if value else 0


def check_rows(kind: str, rows: int, max_rows: int) -> None:
    if rows == 0:
        raise BadScoringInput("no rows to score", field=_field(kind))
    if rows > max_rows:
        raise BadScoringInput(
            f"{rows} rows is over the limit of {max_rows} per request", field=_field(kind)
        )


def _field(kind: str) -> str:
    return "body" if kind == "csv" else kind


def enforce(columns: Columns, signature: list[ColumnSpec], *, from_csv: bool) -> dict[str, Any]:
    """The signature's columns as typed numpy arrays (extra columns ignored); a 400 naming the
    column for one that is missing, mistyped, or null/NaN where the signature requires it."""
    rows = len(next(iter(columns.values()))) if columns else 0
    out: dict[str, Any] = {}
    for spec in signature:
        if spec.name not in columns:
            if spec.required:
                raise BadScoringInput(
                    f"missing column {quoted(spec.name)} ({spec.type}), required by the "
                    "model's signature",
                    field=spec.name,
                )
            out[spec.name] = _array([None] * rows, spec)
            continue
        values = [_value(v, spec, i, from_csv) for i, v in enumerate(columns[spec.name])]
        out[spec.name] = _array(values, spec)
    return out


def _array(values: list[Any], spec: ColumnSpec) -> Any:
    if spec.type in ("float", "double"):
        return np.asarray([math.nan if v is None else v for v in values], dtype=DTYPES[spec.type])
    if any(v is None for v in values):
        # an optional integer/boolean/string column left out: MLflow would fail the same way
        raise BadScoringInput(
            f"column {quoted(spec.name)} ({spec.type}) cannot hold missing values",
            field=spec.name,
        )
    return np.asarray(values, dtype=DTYPES[spec.type])


def _value(raw: Any, spec: ColumnSpec, row: int, from_csv: bool) -> Any:
    """One cell converted to the column's type; None for a missing value (allowed only in an
    optional column)."""
    value = _from_text(raw, spec) if from_csv else raw
    missing = value is None or (isinstance(value, float) and not math.isfinite(value))
    if missing:
        if spec.required:
            shown = "null" if value is None else str(value)
            raise BadScoringInput(
                f"column {quoted(spec.name)} row {row}: {shown} where the signature requires a "
                f"{spec.type}",
                field=spec.name,
            )
        return None
    if not _fits(value, spec.type):
        raise BadScoringInput(
            f"column {quoted(spec.name)} row {row}: expected {spec.type}, got "
            f"{type(value).__name__} {quoted(value)}",
            field=spec.name,
        )
    return value


def _fits(value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind in ("integer", "long"):
        return isinstance(value, int) and _in_range(value, kind)
    if kind in ("float", "double"):
        return isinstance(value, int | float)
    return isinstance(value, str)


def _in_range(value: int, kind: str) -> bool:
    info = np.iinfo(DTYPES[kind])
    return int(info.min) <= value <= int(info.max)


def _from_text(raw: Any, spec: ColumnSpec) -> Any:
    """A CSV cell (always text) as the column's type, or left as text when it does not parse
    (so the type error names it). An empty cell is a missing value."""
    text = str(raw).strip()
    if spec.type == "string":
        return raw
    if not text:
        return None
    try:
        return _CSV_PARSERS[spec.type](text)
    except ValueError:
        return text


def _csv_boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in _CSV_TRUE or lowered in _CSV_FALSE:
        return lowered in _CSV_TRUE
    raise ValueError(text)


_CSV_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "boolean": _csv_boolean,
    "integer": int,
    "long": int,
    "float": float,
    "double": float,
}


def enforce_params(params: dict[str, Any] | None, schema: list[ParamSpec]) -> dict[str, Any]:
    """The params the model accepts, with their defaults; a param the model does not declare
    is ignored (as MLflow does); a mistyped one is a 400 naming it."""
    given = params or {}
    out: dict[str, Any] = {}
    for spec in schema:
        value = given.get(spec.name, spec.default)
        if value is None:
            continue
        if not _fits(value, spec.type) or (isinstance(value, float) and not math.isfinite(value)):
            raise BadScoringInput(
                f"param {quoted(spec.name)}: expected {spec.type}, got {quoted(value)}",
                field=f"params.{spec.name}",
            )
        out[spec.name] = value
    return out
