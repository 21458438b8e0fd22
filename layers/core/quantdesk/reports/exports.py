"""A run's deliverable table in CSV, JSON and Parquet, at full precision, with its manifest.

Values are the result's JSON values (dates as ISO strings). Floats keep every digit: CSV and
JSON write Python's shortest round-tripping repr, Parquet stores float64. The manifest travels
inside the files that can hold it (the JSON document's ``manifest``, the Parquet file's
``quantdesk.manifest`` key-value metadata) and with every export link. Each writer streams
into a binary file object, row by row, so the worker can spool large tables to disk.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from typing import IO, Any, Final

from quantdesk.datalake import columnar
from quantdesk.runs.models import ExportFormat

MANIFEST_METADATA_KEY: Final = "quantdesk.manifest"
CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}


def column_names(result: dict[str, Any]) -> list[str]:
    """The table's columns in their declared order, then any other keys rows carry."""
    names = [c["name"] for c in result.get("columns", [])]
    for row in result.get("rows", []):
        names.extend(k for k in row if k not in names)
    return names


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: those become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_csv(result: dict[str, Any], out: IO[bytes]) -> None:
    names = column_names(result)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(names)
    for row in result.get("rows", []):
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    text.detach()  # leave ``out`` open for the caller


def _json_chunks(result: dict[str, Any], manifest: dict[str, Any]) -> Iterator[str]:
    def dump(value: Any) -> str:
        return json.dumps(value, allow_nan=False, default=str)

    yield "{" + f'"manifest": {dump(manifest)}, '
    yield f'"scenario_id": {dump(result.get("scenario_id"))}, '
    yield f'"as_of": {dump(result.get("as_of"))}, '
    yield f'"columns": {dump(result.get("columns", []))}, "rows": ['
    for index, row in enumerate(result.get("rows", [])):
        yield ("," if index else "") + dump({k: _finite(v) for k, v in row.items()})
    series = [
        {**s, "y": {k: [_finite(v) for v in ys] for k, ys in s["y"].items()}}
        for s in result.get("series", [])
    ]
    yield f'], "series": {dump(series)}, "data_quality": {dump(result.get("data_quality"))}}}\n'


def write_json(result: dict[str, Any], manifest: dict[str, Any], out: IO[bytes]) -> None:
    for chunk in _json_chunks(result, manifest):
        out.write(chunk.encode())


def write_parquet(result: dict[str, Any], manifest: dict[str, Any], out: IO[bytes]) -> None:
    """One row group of the table (Parquet needs the columns whole), typed by column kind."""
    # the worker already has pandas loaded; nothing else imports this module
    import pandas as pd  # noqa: PLC0415

    kinds = {c["name"]: c.get("kind", "number") for c in result.get("columns", [])}
    rows = result.get("rows", [])
    # object columns first: inferring a dtype would turn ints with nulls into float64
    frame = pd.DataFrame(
        {
            name: pd.Series([row.get(name) for row in rows], dtype=object)
            for name in column_names(result)
        }
    )
    for name in frame.columns:
        kind = kinds.get(name, "text")
        if kind in ("number", "percent"):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind == "integer":
            # straight from the Python ints: through float64 an int past 2**53 loses digits
            frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
        else:
            frame[name] = frame[name].map(lambda v: None if v is None else str(v)).astype(object)
    metadata = {MANIFEST_METADATA_KEY: json.dumps(manifest, sort_keys=True)}
    out.write(columnar.encode(frame, metadata=metadata))


def write_export(
    fmt: ExportFormat, result: dict[str, Any], manifest: dict[str, Any], out: IO[bytes]
) -> None:
    if fmt == "csv":
        write_csv(result, out)
    elif fmt == "json":
        write_json(result, manifest, out)
    else:
        write_parquet(result, manifest, out)
