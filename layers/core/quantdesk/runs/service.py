"""What the API does with runs: start, read, list, cancel. Validation happens here, against the
scenario's own input model, so every client gets the same 4xx for the same mistake."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import time
from typing import Any, Final, Literal

from pydantic import ValidationError

from quantdesk.clock import now_iso
from quantdesk.datalake.models import UniverseList
from quantdesk.datalake.repository import SnapshotRepository
from quantdesk.datalake.universes import lake_universes
from quantdesk.errors import (
    Conflict,
    InvalidCursor,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    from_validation_error,
    quoted,
)
from quantdesk.runs import tokens
from quantdesk.runs.cache import CacheHit, ResultCache, datasets_read
from quantdesk.runs.executions import Executions
from quantdesk.runs.idempotency import START_FAILED, IdempotencyKeys, fingerprint
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.limits import RunLimits
from quantdesk.runs.models import (
    RUN_ID_PATTERN,
    ArtifactLink,
    Provenance,
    Run,
    RunAccepted,
    RunError,
    RunManifest,
    RunRequest,
    RunSummaryPage,
    RunView,
)
from quantdesk.runs.repository import NotActive, RunRepository
from quantdesk.runs.results import ResultStore
from quantdesk.settings import Settings
from scenarios import sharding
from scenarios.base import ScenarioParams, ScenarioSpec
from scenarios.registry import get_spec

TIMELINE_LIMIT = 1000
#: lifetime of a report or export link: long enough to start the download, short enough that a
#: leaked link is soon worthless
LINK_TTL_S: Final = 300
#: how long a start trusts the universes it last read: a name they lack is read again at once
#: (a universe published since is never refused), a name they have is trusted this long (one
#: that a newer snapshot dropped is then refused by the worker's readiness check instead)
UNIVERSES_TTL_S: Final = 60.0


class RunService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.repo = RunRepository(settings.table_name)
        self.results = ResultStore(settings.results_bucket)
        self.executions = Executions(settings.scenario_run_arn)
        self.idempotency = IdempotencyKeys(settings.table_name, self.repo)
        self.snapshots = SnapshotRepository(settings.table_name)
        self.cache = ResultCache(settings.table_name)
        self.limits = RunLimits.configured(settings)
        #: the universes a start checks against, and when they were read (``_known_universes``)
        self._universes: tuple[float, UniverseList] | None = None

    def start(
        self, request: RunRequest, owner: str, idempotency_key: str | None = None
    ) -> RunAccepted:
        """Validate, claim the idempotency key, answer from the result cache (unless
        ``fresh``), else take the owner's limits and store the run (one transaction), execute.

        ``idempotency_key`` (the header) and the body's ``idempotency_key`` must agree."""
        return self.accepted(self.submit(request, owner, idempotency_key))

    def submit(
        self,
        request: RunRequest,
        owner: str,
        idempotency_key: str | None = None,
        *,
        watch_id: str | None = None,
    ) -> Run:
        """:meth:`start` without the client's URLs: the stored (or replayed) run. A watch's
        firing starts its run here, marked with ``watch_id``."""
        spec = get_spec(request.scenario_id)
        if spec is None:
            raise NotFound(f"unknown scenario {quoted(request.scenario_id)}", field="scenario_id")
        try:
            params = spec.params_model.model_validate(request.params)
        except ValidationError as exc:
            raise from_validation_error(exc, prefix="params") from exc
        assets = self._check_universe(params)
        if idempotency_key and request.idempotency_key not in (None, idempotency_key):
            raise InvalidRequest(
                "the Idempotency-Key header and the body's idempotency_key differ",
                field="idempotency_key",
            )
        key = idempotency_key or request.idempotency_key
        run_id = new_run_id()
        if key:
            request_fingerprint = fingerprint(spec.scenario_id, request.params)
            claim = self.idempotency.claim(owner, key, request_fingerprint, run_id)
            if claim.replay:
                return self._replay(claim.run_id, owner)
        run = queued_run(
            run_id,
            owner,
            spec,
            params.model_dump(mode="json"),
            code_version=self.settings.code_version,
            provenance=request.provenance,
            watch_id=watch_id,
        )
        hit = None if request.fresh else self.cache.lookup(run, datasets_read(spec, params))
        if hit is not None:
            run = cached_run(run, hit)
            self.repo.create(run, key)
            return run
        try:
            self.limits.acquire(owner, run_id, put=self.repo.put_new(run, key))
        except (TooManyRequests, ServiceUnavailable):
            if key:
                self.idempotency.release(owner, key, run_id)
            raise
        self._start_execution(run, may_shard=self._may_shard(spec, assets))
        return run

    def universes(self) -> UniverseList:
        """The lake's universes (shared by every caller)."""
        return lake_universes(self.snapshots)

    def _check_universe(self, params: ScenarioParams) -> int | None:
        """A run on a universe the lake does not know is refused, naming the known ones, and
        so is one on more assets than ``max_universe_assets`` (the universe's every symbol
        counted), naming the limit. Not checked for explicit tickers (they win, and their
        count is capped by the params model), nor before the lake has universe summaries
        (the worker's readiness check then reports it). Two table reads, so a start reuses
        the universes it read within :data:`UNIVERSES_TTL_S` unless they lack the name. The
        run's assets at most: the tickers, or every symbol the universe had (None when the
        lake has no summary)."""
        if params.tickers:
            return len(params.tickers)
        known = self._known_universes(refresh=False)
        if params.universe not in {u.name for u in known.universes}:
            known = self._known_universes(refresh=True)
        match = next((u for u in known.universes if u.name == params.universe), None)
        if match is not None:
            limit = self.settings.max_universe_assets
            if match.symbols > limit:
                raise InvalidRequest(
                    f"universe {quoted(params.universe)} has {match.symbols} assets; a run "
                    f"may cover at most {limit} (max_universe_assets)",
                    field="params.universe",
                )
            return match.symbols
        if not known.universes:
            return None
        names = ", ".join(u.name for u in known.universes)
        raise InvalidRequest(
            f"unknown universe {quoted(params.universe)}; known: {names}",
            field="params.universe",
        )

    def _known_universes(self, *, refresh: bool) -> UniverseList:
        remembered = self._universes
        if not refresh and remembered and time.monotonic() - remembered[0] < UNIVERSES_TTL_S:
            return remembered[1]
        known = self.universes()
        self._universes = (time.monotonic(), known)
        return known

    def _may_shard(self, spec: ScenarioSpec, assets: int | None) -> bool:
        """Whether the run may be large enough to shard: its workflow then plans it (reading
        the lake); every other run goes straight to the single worker (no extra step)."""
        return sharding.should_shard(spec.scenario_id, assets, self.settings.shard_threshold_assets)

    def _start_execution(self, run: Run, *, may_shard: bool) -> None:
        """Start the run's workflow (idempotent: the execution is named after the run)."""
        payload = {
            "run_id": run.run_id,
            "scenario_id": run.scenario_id,
            "params": run.manifest.params,
            "may_shard": may_shard,
        }
        try:
            self.executions.start(run.run_id, payload)
        except ServiceUnavailable as exc:
            with contextlib.suppress(NotActive):
                self.repo.finish(
                    run.run_id, "failed", now_iso(), RunError(type=START_FAILED, message=str(exc))
                )
            self.limits.release(run.owner, run.run_id)
            raise

    def _replay(self, run_id: str, owner: str) -> Run:
        """The run a repeated idempotency key started. One still ``queued`` may be one whose
        execution never started (the API stopped between storing it and starting it): the
        retry starts it; starting is idempotent, so racing the first request's own start is
        harmless."""
        run = self.owned(run_id, owner)
        if run.status == "queued":
            self._start_execution(run, may_shard=True)  # rare: the workflow's plan decides
        return run

    def accepted(self, run: Run) -> RunAccepted:
        token = tokens.issue(
            tokens.signing_key(self.settings.stream_secret_name), run.run_id, run.owner
        )
        base = self.settings.public_base_url
        return RunAccepted(
            run_id=run.run_id,
            status=run.status,
            stream_url=f"{base}/runs/{run.run_id}/stream?token={token}",
            status_url=f"{base}/analysis/runs/{run.run_id}",
            cached=run.cached,
            cached_from=run.cached_from,
        )

    def owned(self, run_id: str, owner: str) -> Run:
        """The owner's run; another owner's is as unknown as a missing one (404)."""
        run = self.repo.get(run_id)
        if run is None or run.owner != owner:
            raise NotFound(f"no run {quoted(run_id)}", field="run_id")
        return run

    def describe(self, run_id: str, owner: str) -> RunView:
        run = self.owned(run_id, owner)
        timeline = self.repo.events_after(run_id, 0, TIMELINE_LIMIT)
        result = None
        if run.result_key and run.status == "succeeded":
            result = self.results.get(run.result_key)
        # a fresh stream URL on every read: stream tokens live minutes, the run view renews them
        stream_url = self.accepted(run).stream_url
        return RunView.model_validate(
            {**dict(run), "timeline": timeline, "result": result, "stream_url": stream_url}
        )

    def artifact_link(
        self, run: Run, kind: Literal["report", "csv", "json", "parquet"]
    ) -> ArtifactLink:
        """A short-lived link to ``run``'s report or export (``run`` from :meth:`owned`; a
        cached run's files are those of the run it reuses)."""
        run_id = run.run_id
        if run.status != "succeeded":
            raise Conflict(
                f"run is {run.status}: only a succeeded run has a report and exports",
                field="run_id",
            )
        key = run.artifacts.get(kind)
        if key is None:
            raise NotFound(
                f"run {quoted(run_id)} has no {kind}: it finished before reports and exports "
                "were stored (run it fresh)",
                field="run_id",
            )
        download_as = None if kind == "report" else f"{run_id}.{kind}"
        expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LINK_TTL_S)
        return ArtifactLink(
            run_id=run_id,
            kind=kind,
            url=self.results.link(key, LINK_TTL_S, download_as),
            expires_at=expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            manifest=run.manifest,
        )

    def list_runs(self, owner: str, limit: int, cursor: str | None) -> RunSummaryPage:
        after = _decode_cursor(cursor) if cursor else None
        runs, last = self.repo.list_for_owner(owner, limit, after)
        return RunSummaryPage(runs=runs, next_cursor=_encode_cursor(last) if last else None)

    def cancel(self, run_id: str, owner: str) -> Run:
        run = self.owned(run_id, owner)
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
        self.limits.release(owner, run_id)
        return self.owned(run_id, owner)


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


def queued_run(
    run_id: str,
    owner: str,
    spec: ScenarioSpec,
    params: dict[str, Any],
    *,
    code_version: str,
    provenance: Provenance | None = None,
    watch_id: str | None = None,
) -> Run:
    """A new run as ``POST /analysis/run`` stores it: ``queued``, first event, its manifest."""
    now = now_iso()
    return Run(
        run_id=run_id,
        owner=owner,
        scenario_id=spec.scenario_id,
        status="queued",
        watch_id=watch_id,
        created_at=now,
        updated_at=now,
        event_seq=1,
        manifest=RunManifest(
            scenario_id=spec.scenario_id,
            scenario_version=spec.version,
            params=params,
            code_version=code_version,
            provenance=provenance,
        ),
    )


def cached_run(run: Run, hit: CacheHit) -> Run:
    """``run`` answered from the cache: stored already ``succeeded`` (its one event is the
    terminal one), with the reused run's result, snapshots, timings and artifacts."""
    manifest = run.manifest.model_copy(
        update={"data_snapshots": hit.data_snapshots, "timings": hit.timings}
    )
    return run.model_copy(
        update={
            "status": "succeeded",
            "started_at": run.created_at,
            "finished_at": run.created_at,
            "manifest": manifest,
            "result_key": hit.result_key,
            "result_summary": hit.result_summary,
            "artifacts": hit.artifacts,
            "cached": True,
            "cached_from": hit.run_id,
        }
    )
