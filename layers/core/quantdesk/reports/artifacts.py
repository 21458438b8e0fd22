"""The worker's last step: the report and the exports, stored next to the run's result.

Each file is spooled (to /tmp past a few MB) and uploaded with ``upload_fileobj``, which sends
large files in parts: a big table is never held twice in memory, and the API only presigns
links to these keys.
"""

from __future__ import annotations

import tempfile
from typing import Any, Final, get_args

from quantdesk import aws
from quantdesk.reports import html
from quantdesk.reports.exports import CONTENT_TYPES, write_export
from quantdesk.runs.models import ExportFormat, Run
from scenarios.base import ScenarioResult
from scenarios.registry import get_spec

SPOOL_BYTES: Final = 8 * 1024 * 1024
EXTENSIONS: Final = {"report": "html", "csv": "csv", "json": "json", "parquet": "parquet"}


def artifact_key(run_id: str, kind: str) -> str:
    name = "report" if kind == "report" else "export"
    return f"runs/{run_id}/{name}.{EXTENSIONS[kind]}"


def _upload(bucket: str, key: str, spool: Any, content_type: str) -> None:
    spool.seek(0)
    aws.client("s3").upload_fileobj(spool, bucket, key, ExtraArgs={"ContentType": content_type})


def write_artifacts(bucket: str, run: Run, result: ScenarioResult) -> dict[str, str]:
    """Store ``run``'s report and exports (``run.manifest`` complete); their keys by kind."""
    payload = result.model_dump(mode="json")
    manifest = run.manifest.model_dump(mode="json")
    stored: dict[str, str] = {}
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
        spool.write(html.render(run, result, get_spec(run.scenario_id)).encode())
        stored["report"] = artifact_key(run.run_id, "report")
        _upload(bucket, stored["report"], spool, "text/html; charset=utf-8")
    fmt: ExportFormat
    for fmt in get_args(ExportFormat):
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            write_export(fmt, payload, manifest, spool)
            stored[fmt] = artifact_key(run.run_id, fmt)
            _upload(bucket, stored[fmt], spool, CONTENT_TYPES[fmt])
    return stored
