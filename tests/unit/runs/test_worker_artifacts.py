"""The worker on the sample lake: it stores the report and exports next to the result, they hold
the result exactly, and the snapshots it records are the ones the result cache checks."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from quantdesk import aws
from quantdesk.datalake import columnar
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.sample import END_DATE
from quantdesk.reports.exports import MANIFEST_METADATA_KEY
from quantdesk.runs.cache import datasets_read
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import Provenance
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.service import queued_run
from quantdesk.runs.worker_job import execute
from quantdesk.settings import get_settings
from scenarios.registry import get_spec
from tests.unit.in_process_ingestion import run_ingestion
from tests.unit.lake_fixtures import ctx
from tests.unit.stream.run_writer import mark_running

__all__ = ["ctx"]


def stored(key: str) -> bytes:
    body: bytes = (
        aws.client("s3").get_object(Bucket=get_settings().results_bucket, Key=key)["Body"].read()
    )
    return body


@pytest.fixture
def computed(ctx: IngestionContext) -> tuple[Any, dict[str, Any]]:
    """A trend_strength run over a sector of the sample universe, computed by the worker."""
    run_ingestion([FetchRequest(source="sample", datasets=["prices", "universe", "sectors"])], ctx)
    spec = get_spec("trend_strength")
    assert spec is not None
    params = spec.params_model.model_validate(
        {"as_of": END_DATE.isoformat(), "sector": "Information Technology"}
    )
    repo = RunRepository(get_settings().table_name)
    run = queued_run(
        new_run_id(),
        "alice",
        spec,
        params.model_dump(mode="json"),
        code_version="test",
        provenance=Provenance(prompt="tech stocks trending up", rank=1),
    )
    repo.create(run)
    mark_running(repo, run.run_id)
    execute(run.run_id, spec.scenario_id, run.manifest.params, get_settings())
    done = repo.get(run.run_id)
    assert done is not None and done.result_key is not None
    return done, json.loads(stored(done.result_key))


def test_the_report_and_exports_are_stored_next_to_the_result(
    computed: tuple[Any, dict[str, Any]],
) -> None:
    run, result = computed
    # the snapshots it read are exactly the datasets the result cache checks for this request
    spec = get_spec("trend_strength")
    assert spec is not None
    params = spec.params_model.model_validate(run.manifest.params)
    assert tuple(sorted(run.manifest.data_snapshots)) == datasets_read(spec, params)
    assert set(run.artifacts) == {"report", "csv", "json", "parquet"}
    assert all(key.startswith(f"runs/{run.run_id}/") for key in run.artifacts.values())
    assert result["rows"], "the sector has rows"
    report = stored(run.artifacts["report"]).decode()
    assert "tech stocks trending up" in report
    assert run.manifest.data_snapshots["prices"] in report

    names = [c["name"] for c in result["columns"]]
    # JSON: the same rows, every digit, and the run's manifest
    document = json.loads(stored(run.artifacts["json"]))
    assert document["rows"] == result["rows"]
    assert document["manifest"]["data_snapshots"] == run.manifest.data_snapshots
    # CSV: the same cells (numbers parse back to the same floats)
    header, *rows = list(csv.reader(io.StringIO(stored(run.artifacts["csv"]).decode())))
    assert header == names and len(rows) == len(result["rows"])
    for written, original in zip(rows, result["rows"], strict=True):
        for name, cell in zip(names, written, strict=True):
            value = original[name]
            if isinstance(value, float):
                assert float(cell) == value, name
            else:
                assert cell == ("" if value is None else str(value)), name
    # Parquet: float64 columns equal to the last bit, and the manifest in the metadata
    parquet = stored(run.artifacts["parquet"])
    manifest = json.loads(columnar.key_value_metadata(parquet)[MANIFEST_METADATA_KEY])
    assert manifest["params"] == run.manifest.params
    frame = columnar.decode(parquet)
    numeric = [c["name"] for c in result["columns"] if c["kind"] in ("number", "percent")]
    for name in numeric:
        expected = [r[name] for r in result["rows"]]
        got = frame[name].tolist()
        assert [g for g, e in zip(got, expected, strict=True) if e is not None] == [
            e for e in expected if e is not None
        ], name
