"""Exports round-trip to full precision, in every format, with the manifest where it fits."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest

from quantdesk.datalake import columnar
from quantdesk.reports.exports import MANIFEST_METADATA_KEY, column_names, write_export

MANIFEST = {"scenario_id": "s", "params": {"universe": "u"}, "data_snapshots": {"prices": "p"}}
COLUMNS = [
    {"name": "symbol", "label": "Symbol", "kind": "text"},
    {"name": "score", "label": "Score", "kind": "number"},
    {"name": "weight", "label": "Weight", "kind": "percent"},
    {"name": "rank", "label": "Rank", "kind": "integer"},
    {"name": "date", "label": "Date", "kind": "date"},
]
# digits a rounding writer would lose, extremes, nulls, and text CSV must quote
ROWS: list[dict[str, Any]] = [
    {
        "symbol": "AAPL",
        "score": 1 / 3,
        "weight": 0.1 + 0.2,
        "rank": 1,
        "date": "2026-11-27",
    },
    {
        "symbol": 'BRK.B, "class B"\nline two',
        "score": 1.2345678901234567e-300,
        "weight": -2.5e300,
        "rank": 9007199254740993,
        "date": None,
    },
    {"symbol": "ÆØÅ", "score": None, "weight": 123456789.12345679, "rank": None, "date": None},
]
RESULT = {
    "scenario_id": "s",
    "as_of": "2026-11-27",
    "summary": "x",
    "columns": COLUMNS,
    "rows": ROWS,
    "series": [{"name": "line", "kind": "line", "x": [1, 2], "y": {"a": [0.1, float("nan")]}}],
    "narrative": [],
    "data_quality": {"assets_used": 3},
}


def export(fmt: str) -> bytes:
    out = io.BytesIO()
    write_export(fmt, RESULT, MANIFEST, out)  # type: ignore[arg-type]
    return out.getvalue()


def test_csv_round_trips_every_value_exactly() -> None:
    reader = csv.reader(io.StringIO(export("csv").decode("utf-8"), newline=""))
    header, *rows = list(reader)
    assert header == ["symbol", "score", "weight", "rank", "date"]
    assert len(rows) == len(ROWS)
    for written, original in zip(rows, ROWS, strict=True):
        assert written[0] == original["symbol"]
        for index, name in enumerate(header[1:4], start=1):
            value = original[name]
            parsed = (
                None if written[index] == "" else (int if name == "rank" else float)(written[index])
            )
            assert parsed == value, name
        assert (written[4] or None) == original["date"]


def test_json_carries_the_manifest_and_every_value_exactly() -> None:
    document = json.loads(export("json"))
    assert document["manifest"] == MANIFEST
    assert document["rows"] == ROWS
    assert document["columns"] == COLUMNS
    assert document["series"][0]["y"]["a"] == [0.1, None]  # JSON has no NaN


def test_parquet_is_typed_full_precision_and_holds_the_manifest() -> None:
    data = export("parquet")
    assert json.loads(columnar.key_value_metadata(data)[MANIFEST_METADATA_KEY]) == MANIFEST
    frame = columnar.decode(data)
    assert list(frame.columns) == column_names(RESULT)
    assert str(frame["score"].dtype) == "float64"
    for written, original in zip(frame.to_dict("records"), ROWS, strict=True):
        for name, value in original.items():
            got = written[name]
            if value is None:
                assert (
                    got is None
                    or (isinstance(got, float) and math.isnan(got))
                    or str(got)
                    in {
                        "<NA>",
                        "None",
                    }
                ), name
            else:
                assert got == value, name


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_an_empty_table_still_exports(fmt: str) -> None:
    out = io.BytesIO()
    write_export(fmt, {**RESULT, "rows": []}, MANIFEST, out)  # type: ignore[arg-type]
    assert out.getvalue()
