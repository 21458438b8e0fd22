"""What the API does with runs: start, read, list, cancel. Validation happens here, against the
scenario's own input model, so every client gets the same 4xx for the same mistake."""

from __future__ import annotations

import base64
import re

from pydantic import ValidationError

from quantdesk.clock import now_iso
from quantdesk.errors import (
    Conflict,
    InvalidCursor,
    NotFound,
    ServiceUnavailable,
    from_validation_error,
)
from quantdesk.runs import tokens
from quantdesk.runs.executions import Executions
from quantdesk.runs.ids import idempotent_run_id, new_run_id
from quantdesk.runs.models import (
    RUN_ID_PATTERN,
    Run,
    RunAccepted,
    RunError,
    RunManifest,
    RunRequest,
    RunSummaryPage,
    RunView,
)
from quantdesk.runs.repository import NotActive, RunExists, RunRepository
from quantdesk.runs.results import ResultStore
from quantdesk.settings import Settings
from scenarios.registry import get_spec

TIMELINE_LIMIT = 1000


class RunService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.repo = RunRepository(settings.table_name)
        self.results = ResultStore(settings.results_bucket)
        self.executions = Executions(settings.scenario_run_arn)

    def start(self, request: RunRequest, owner: str) -> RunAccepted:
        spec = get_spec(request.scenario_id)
        if spec is None:
            raise NotFound(f"unknown scenario {request.scenario_id!r}", field="scenario_id")
        try:
            params = spec.params_model.model_validate(request.params)
        except ValidationError as exc:
            raise from_validation_error(exc, prefix="params") from exc
        key = request.idempotency_key
        run_id = idempotent_run_id(owner, key) if key else new_run_id()
        now = now_iso()
        run = Run(
            run_id=run_id,
            owner=owner,
            scenario_id=spec.scenario_id,
            status="queued",
            created_at=now,
            updated_at=now,
            event_seq=1,
            manifest=RunManifest(
                scenario_id=spec.scenario_id,
                scenario_version=spec.version,
                params=params.model_dump(mode="json"),
                code_version=self.settings.code_version,
                provenance=request.provenance,
            ),
        )
        try:
            self.repo.create(run, key)
        except RunExists:
            return self._replay(run, owner)
        payload = {"run_id": run_id, "scenario_id": spec.scenario_id, "params": run.manifest.params}
        try:
            self.executions.start(run_id, payload)
        except ServiceUnavailable as exc:
            self.repo.finish(
                run_id, "failed", now_iso(), RunError(type="StartFailed", message=str(exc))
            )
            raise
        return self.accepted(run)

    def _replay(self, run: Run, owner: str) -> RunAccepted:
        """A repeated idempotency key: the same request gets the same run, another is a 409."""
        existing = self.repo.get(run.run_id)
        if existing is None or existing.owner != owner:
            raise Conflict("idempotency key already used", field="idempotency_key")
        same = (existing.scenario_id, existing.manifest.params) == (
            run.scenario_id,
            run.manifest.params,
        )
        if not same:
            raise Conflict(
                "idempotency key already used for a different request", field="idempotency_key"
            )
        return self.accepted(existing)

    def accepted(self, run: Run) -> RunAccepted:
        token = tokens.issue(self.settings.stream_secret, run.run_id, run.owner)
        base = self.settings.public_base_url
        return RunAccepted(
            run_id=run.run_id,
            status=run.status,
            stream_url=f"{base}/runs/{run.run_id}/stream?token={token}",
            status_url=f"{base}/analysis/runs/{run.run_id}",
        )

    def _owned(self, run_id: str, owner: str) -> Run:
        run = self.repo.get(run_id)
        if run is None or run.owner != owner:
            raise NotFound(f"no run {run_id!r}", field="run_id")
        return run

    def describe(self, run_id: str, owner: str) -> RunView:
        run = self._owned(run_id, owner)
        timeline = self.repo.events_after(run_id, 0, TIMELINE_LIMIT)
        result = None
        if run.result_key and run.status == "succeeded":
            result = self.results.get(run.result_key)
        return RunView.model_validate({**dict(run), "timeline": timeline, "result": result})

    def list_runs(self, owner: str, limit: int, cursor: str | None) -> RunSummaryPage:
        after = _decode_cursor(cursor) if cursor else None
        runs, last = self.repo.list_for_owner(owner, limit, after)
        return RunSummaryPage(runs=runs, next_cursor=_encode_cursor(last) if last else None)

    def cancel(self, run_id: str, owner: str) -> Run:
        run = self._owned(run_id, owner)
        if run.terminal:
            raise Conflict(f"run already {run.status}", field="run_id")
        try:
            self.repo.finish(
                run_id,
                "cancelled",
                now_iso(),
                RunError(type="Cancelled", message="cancelled by the user"),
            )
        except NotActive as exc:
            raise Conflict("run already finished", field="run_id") from exc
        self.executions.stop(run_id)
        return self._owned(run_id, owner)


def _encode_cursor(run_id: str) -> str:
    """An opaque page cursor: the last run id of the page."""
    return base64.urlsafe_b64encode(run_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        run_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise InvalidCursor from exc
    if not re.fullmatch(RUN_ID_PATTERN, run_id):
        raise InvalidCursor
    return run_id
