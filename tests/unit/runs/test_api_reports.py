"""Report and export links through the Chalice app against moto: owner check, states, formats."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infrastructure import resources
from quantdesk import aws
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import Run, RunManifest
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.stack import ROOT


def store_run(owner: str, status: str = "succeeded", *, files: bool = True) -> str:
    """A run of ``owner`` in ``status``; succeeded ones with their report and exports stored."""
    settings = get_settings()
    run_id = new_run_id()
    artifacts = {}
    if files:
        for kind, name in (
            ("report", "report.html"),
            ("csv", "export.csv"),
            ("json", "export.json"),
            ("parquet", "export.parquet"),
        ):
            key = f"runs/{run_id}/{name}"
            aws.client("s3").put_object(
                Bucket=settings.results_bucket, Key=key, Body=f"{kind} of {run_id}".encode()
            )
            artifacts[kind] = key
    RunRepository(settings.table_name).create(
        Run(
            run_id=run_id,
            owner=owner,
            scenario_id="trend_strength",
            status=status,  # type: ignore[arg-type]
            created_at="2026-11-30T12:00:00Z",
            updated_at="2026-11-30T12:00:00Z",
            event_seq=3,
            manifest=RunManifest(
                scenario_id="trend_strength",
                scenario_version="1",
                params={"universe": "us_large_cap"},
                data_snapshots={"prices": "p-1"},
                code_version="test",
            ),
            result_key=f"runs/{run_id}/result.json" if status == "succeeded" else None,
            artifacts=artifacts if status == "succeeded" else {},
        )
    )
    return run_id


def problem(response: Any) -> tuple[int, str | None]:
    return response.status_code, json.loads(response.body).get("field")


@pytest.mark.parametrize(
    ("path", "kind", "download"),
    [
        ("report", "report", False),
        ("export?format=csv", "csv", True),
        ("export?format=json", "json", True),
        ("export?format=parquet", "parquet", True),
    ],
)
def test_the_owner_gets_a_short_lived_link_to_the_file(
    api: Any, path: str, kind: str, download: bool
) -> None:
    run_id = store_run("local")
    response = api.get(f"/analysis/runs/{run_id}/{path}")
    assert response.status_code == 200, response.body
    link = json.loads(response.body)
    assert (link["run_id"], link["kind"]) == (run_id, kind)
    assert link["manifest"]["data_snapshots"] == {"prices": "p-1"}
    query = parse_qs(urlsplit(link["url"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    disposition = query.get("response-content-disposition", [""])[0]
    assert (f'filename="{run_id}.{kind}"' in disposition) is download
    # the link serves the stored file, with no other credential
    assert requests.get(link["url"], timeout=10).content == f"{kind} of {run_id}".encode()


def test_another_owners_run_is_not_found(api: Any) -> None:
    run_id = store_run("bob")
    # whatever the query: the owner check comes first
    for path in ("report", "export?format=csv", "export?format=xlsx", "export"):
        assert problem(api.get(f"/analysis/runs/{run_id}/{path}")) == (404, "run_id")
    assert problem(api.get("/analysis/runs/01aaaaaaaaaaaaaaaaaaaaaaaa/report")) == (404, "run_id")


@pytest.mark.parametrize("query", ["", "?format=xlsx", "?format=CSV", "?format=csv&extra=1"])
def test_a_bad_export_query_names_the_field(api: Any, query: str) -> None:
    run_id = store_run("local")
    status, field = problem(api.get(f"/analysis/runs/{run_id}/export{query}"))
    assert status == 400
    assert field == ("extra" if "extra" in query else "format")


def test_a_run_that_has_not_succeeded_has_no_report_yet(api: Any) -> None:
    run_id = store_run("local", "running", files=False)
    assert problem(api.get(f"/analysis/runs/{run_id}/report")) == (409, "run_id")
    assert problem(api.get(f"/analysis/runs/{run_id}/export?format=json")) == (409, "run_id")


def test_a_run_stored_before_reports_existed_says_so(api: Any) -> None:
    run_id = store_run("local", files=False)
    response = api.get(f"/analysis/runs/{run_id}/report")
    assert problem(response) == (404, "run_id")
    assert "run it fresh" in json.loads(response.body)["message"]


def test_the_api_serves_links_without_loading_pandas_or_the_report_code() -> None:
    # a fresh interpreter: the API app and everything its run routes import at first use
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / resources.API.code_dir)!r})\n"
        "import app, quantdesk.runs.service, quantdesk.runs.models\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'quantdesk.reports') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
