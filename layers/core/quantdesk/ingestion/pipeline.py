"""The ingestion steps as plain functions: fetch -> validate (+ quarantine, + registration of
new symbols) -> write -> publish, then :func:`quantdesk.ingestion.outcomes.summarize`.

Each Lambda of the ``ingestion`` state machine wraps exactly one of these. Steps exchange the
small models of :mod:`quantdesk.ingestion.models`; frames travel through the data bucket.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.datalake import columnar
from quantdesk.datalake.errors import SnapshotConflictError
from quantdesk.datalake.layout import (
    layout,
    quarantine_key,
    quarantine_payload_key,
    quarantine_report_key,
    raw_key,
    validated_key,
)
from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
from quantdesk.datalake.snapshot_files import load_manifest, read_file
from quantdesk.datalake.writer import publish_snapshot, stage_snapshot
from quantdesk.ingestion import registration, validation
from quantdesk.ingestion.models import (
    DatasetOutcome,
    Fetched,
    FetchInput,
    SourceOutcome,
    Validated,
    ValidatedDataset,
    Written,
)
from quantdesk.ingestion.outcomes import source_message, source_status
from quantdesk.ingestion.sources import get_source
from quantdesk.ingestion.sources.base import Batch, fingerprint_of
from quantdesk.settings import Settings, get_settings

if TYPE_CHECKING:
    from quantdesk.ingestion.registration import Registration, Target

#: validated first, as they define known symbols: reference data, then prices (which register
#: new symbols before the other datasets are checked against them)
REFERENCE_FIRST: Final = ("sectors", "universe", "prices")
PUBLISH_ATTEMPTS: Final = 3


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    return f"ing-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@dataclass
class IngestionContext:
    """What every step needs: the lake repositories and a clock (tests pin it)."""

    store: LakeObjectStore
    snapshots: SnapshotRepository
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> IngestionContext:
        settings = settings or get_settings()
        return cls(LakeObjectStore(settings.data_bucket), SnapshotRepository(settings.table_name))


def storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Mixed-type object columns (messy input files) become strings so Parquet accepts them."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(
                lambda v: v if v is None or isinstance(v, str) else str(v)
            )
    return out


# -- fetch --------------------------------------------------------------------------------------
def fetch(
    step: FetchInput, ctx: IngestionContext, read: Callable[[], Batch] | None = None
) -> Fetched:
    """Fetch from the source (or ``read`` it: a bulk load's batches) and keep what it returned
    in the raw zone."""
    request = step.request
    source = get_source(request.source)
    target = registration.target(request)
    fingerprint = source.fingerprint(request, ctx.store)
    if fingerprint and registration.UNIVERSE_OPTION in request.options:
        # the same files into another named universe are another batch
        fingerprint = fingerprint_of(fingerprint, target.name)
    seen = ctx.snapshots.applied_source_batch(source.name, fingerprint) if fingerprint else None
    if seen is not None:
        # the very same batch was ingested before: nothing to fetch, validate or write
        return Fetched(
            run_id=step.run_id,
            source=source.name,
            staged={},
            fingerprint=fingerprint,
            already_applied=str(seen.get("run_id")),
            target=target,
        )
    batch = read() if read is not None else source.fetch(request, ctx.store)
    staged: dict[str, str] = {}
    rows: dict[str, int] = {}
    for dataset, frame in batch.frames.items():
        layout(dataset)  # unknown dataset names fail here, loudly
        key = raw_key(source.name, step.run_id, dataset)
        ctx.store.put_bytes(key, columnar.encode(storable(frame)))
        staged[dataset] = key
        rows[dataset] = len(frame)
    for name, frame in batch.extras.items():
        ctx.store.put_bytes(raw_key(source.name, step.run_id, name), columnar.encode(frame))
    for name, payload in batch.rejected.items():
        ctx.store.put_bytes(quarantine_payload_key(step.run_id, source.name, name), payload)
    return Fetched(
        run_id=step.run_id,
        source=source.name,
        staged=staged,
        rows=rows,
        synthetic=batch.synthetic,
        metadata=batch.metadata,
        issues=batch.issues,
        fingerprint=fingerprint,
        target=target,
    )


# -- validate + quarantine ----------------------------------------------------------------------
def _known_symbols(ctx: IngestionContext) -> set[str]:
    """Symbols classified (``sectors``) or members of any universe: the lake knows them."""
    known: set[str] = set()
    for dataset in ("sectors", "universe"):
        record = ctx.snapshots.latest(dataset)
        if record is not None:
            known |= set(load_manifest(ctx.store, record).symbols)
    return known


def _ever_members(ctx: IngestionContext, universe: str) -> set[str]:
    """Symbols ever members of ``universe`` in the lake."""
    record = ctx.snapshots.latest("universe")
    if record is None:
        return set()
    files = load_manifest(ctx.store, record).files
    frames = [read_file(ctx.store, "universe", f) for f in files]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["universe"])
    return set(rows.loc[rows["universe"] == universe, "symbol"])


def _register(
    ctx: IngestionContext,
    target: Target,
    prices: pd.DataFrame,
    *,
    known: set[str],
    universe: tuple[pd.DataFrame, validation.DatasetReport] | None,
    today: dt.date,
) -> tuple[Registration | None, tuple[pd.DataFrame, validation.DatasetReport] | None]:
    """Membership rows for the batch's new symbols, merged into its ``universe`` rows."""
    skip = _ever_members(ctx, target.name) if target.explicit else known
    if universe is not None:  # the batch's own membership rows for the target count too
        rows = universe[0]
        skip = skip | set(rows.loc[rows["universe"] == target.name, "symbol"])
    rows = registration.memberships(prices, target.name, skip)
    if rows.empty:
        return None, universe
    good, _, report = validation.validate("universe", rows, today=today)
    registered = registration.Registration(
        universe=target.name,
        symbols=len(good),
        first=good["symbol"].head(registration.SHOWN).tolist(),
    )
    if universe is not None:
        good = pd.concat([universe[0], good], ignore_index=True)
        report = universe[1].model_copy(
            update={
                "rows_in": universe[1].rows_in + report.rows_in,
                "rows_valid": universe[1].rows_valid + report.rows_valid,
            }
        )
    report.notes.append(registered.message)
    return registered, (good, report)


def quarantine(
    ctx: IngestionContext, run_id: str, source: str, dataset: str, bad: pd.DataFrame
) -> str | None:
    """Keep rejected rows (input values, ``row``, ``reason``) in the quarantine zone."""
    if bad.empty:
        return None
    key = quarantine_key(run_id, source, dataset)
    ctx.store.put_bytes(key, columnar.encode(storable(bad)))
    return key


def validate(fetched: Fetched, ctx: IngestionContext) -> Validated:
    """Validate every fetched dataset, quarantine bad rows, stage the good ones."""
    if fetched.already_applied:
        return Validated(
            run_id=fetched.run_id,
            source=fetched.source,
            datasets={},
            fingerprint=fetched.fingerprint,
            already_applied=fetched.already_applied,
        )
    today = ctx.clock().date()
    known = _known_symbols(ctx)
    order = sorted(
        fetched.staged,
        key=lambda d: (REFERENCE_FIRST.index(d) if d in REFERENCE_FIRST else 99, d),
    )
    checked: dict[str, tuple[pd.DataFrame, validation.DatasetReport]] = {}
    registered = None
    for dataset in order:
        raw = columnar.decode(ctx.store.get_bytes(fetched.staged[dataset]))
        good, bad, report = validation.validate(
            dataset, raw, today=today, known_symbols=known or None
        )
        quarantine(ctx, fetched.run_id, fetched.source, dataset, bad)
        checked[dataset] = (good, report)
        if dataset in ("sectors", "universe"):
            known |= set(good["symbol"])
        if dataset == "prices" and fetched.target is not None:
            registered, universe = _register(
                ctx,
                fetched.target,
                good,
                known=known,
                universe=checked.get("universe"),
                today=today,
            )
            if universe is not None:
                checked["universe"] = universe
                known |= set(universe[0]["symbol"])
    results = {
        dataset: _stage_valid(ctx, fetched, dataset, good, report)
        for dataset, (good, report) in checked.items()
    }
    report_key = quarantine_report_key(fetched.run_id, fetched.source)
    ctx.store.put_json(
        report_key,
        {
            "run_id": fetched.run_id,
            "source": fetched.source,
            "issues": [i.model_dump() for i in fetched.issues],
            "datasets": {d: r.report.model_dump(mode="json") for d, r in results.items()},
        },
    )
    return Validated(
        run_id=fetched.run_id,
        source=fetched.source,
        synthetic=fetched.synthetic,
        datasets=results,
        issues=fetched.issues,
        report_key=report_key,
        fingerprint=fetched.fingerprint,
        already_applied=fetched.already_applied,
        registered=registered,
    )


def _stage_valid(
    ctx: IngestionContext,
    fetched: Fetched,
    dataset: str,
    good: pd.DataFrame,
    report: validation.DatasetReport,
) -> ValidatedDataset:
    """Keep a dataset's good rows in the validated zone for the write step."""
    result = ValidatedDataset(report=report)
    if len(good):
        good = good.sort_values(list(layout(dataset).keys), kind="stable")
        data = columnar.encode(good.reset_index(drop=True))
        result.valid_key = validated_key(fetched.run_id, fetched.source, dataset)
        result.batch_sha = columnar.digest(data)
        ctx.store.put_bytes(result.valid_key, data)
    return result


# -- write + publish ----------------------------------------------------------------------------
def _stage(ctx: IngestionContext, validated: Validated, dataset: str) -> Any:
    entry = validated.datasets[dataset]
    assert entry.valid_key is not None
    frame = columnar.decode(ctx.store.get_bytes(entry.valid_key))
    return stage_snapshot(
        ctx.store,
        ctx.snapshots,
        dataset,
        frame,
        sources=[validated.source],
        synthetic=validated.synthetic,
    )


def write(validated: Validated, ctx: IngestionContext) -> Written:
    """Merge each dataset's good rows into new partition files (not yet visible)."""
    written = Written(
        run_id=validated.run_id,
        source=validated.source,
        synthetic=validated.synthetic,
        validated=validated,
    )
    for dataset, entry in validated.datasets.items():
        if entry.valid_key is None or entry.batch_sha is None:
            written.skipped[dataset] = "no valid rows"
            continue
        applied = ctx.snapshots.applied_batch(dataset, entry.batch_sha)
        if applied is not None:
            written.skipped[dataset] = f"batch already applied ({applied.get('snapshot_id')})"
            continue
        written.staged[dataset] = _stage(ctx, validated, dataset)
    return written


def _publish_one(ctx: IngestionContext, written: Written, dataset: str) -> DatasetOutcome:
    staged = written.staged[dataset]
    entry = written.validated.datasets[dataset]
    for attempt in range(PUBLISH_ATTEMPTS):
        try:
            record = publish_snapshot(
                ctx.store, ctx.snapshots, staged, run_id=written.run_id, now=ctx.clock()
            )
            break
        except SnapshotConflictError:
            # someone published first: merge again on top of their snapshot
            if attempt == PUBLISH_ATTEMPTS - 1:
                raise
            staged = _stage(ctx, written.validated, dataset)
    current = record.snapshot_id if record else staged.parent_id
    assert entry.batch_sha is not None
    ctx.snapshots.mark_batch(dataset, entry.batch_sha, current, ctx.clock().isoformat())
    return DatasetOutcome(
        dataset=dataset,
        snapshot_id=record.snapshot_id if record else None,
        current_snapshot_id=current,
        rows_in=entry.report.rows_in,
        rows_loaded=entry.report.rows_valid,
        rows_added=staged.rows_added,
        rows_replaced=staged.rows_replaced,
        rows_quarantined=entry.report.rows_quarantined,
        reasons=entry.report.reasons,
        errors=entry.report.errors,
        notes=entry.report.notes,
        unchanged=record is None,
    )


def publish(written: Written, ctx: IngestionContext) -> SourceOutcome:
    """Publish every staged snapshot (atomic pointer swap) and describe the source's outcome."""
    validated = written.validated
    if validated.already_applied:
        return SourceOutcome(
            run_id=written.run_id,
            source=written.source,
            status="succeeded",
            already_applied=validated.already_applied,
            message=(
                f"{written.source} succeeded: same batch as run {validated.already_applied}, "
                "nothing to do"
            ),
        )
    outcomes: list[DatasetOutcome] = []
    for dataset, entry in written.validated.datasets.items():
        if dataset in written.staged:
            outcomes.append(_publish_one(ctx, written, dataset))
            continue
        report = entry.report
        latest = ctx.snapshots.latest(dataset)
        outcomes.append(
            DatasetOutcome(
                dataset=dataset,
                current_snapshot_id=latest.snapshot_id if latest else None,
                rows_in=report.rows_in,
                rows_loaded=report.rows_valid,
                rows_quarantined=report.rows_quarantined,
                reasons=report.reasons,
                errors=report.errors,
                notes=[*report.notes, written.skipped.get(dataset, "")],
                unchanged=True,
            )
        )
    issues = written.validated.issues
    outcome = SourceOutcome(
        run_id=written.run_id,
        source=written.source,
        status=source_status(outcomes, len(issues)),
        synthetic=written.synthetic,
        datasets=outcomes,
        issues=issues,
        report_key=written.validated.report_key,
        registered=validated.registered,
    )
    outcome.message = source_message(outcome)
    if validated.fingerprint and outcome.status != "failed":
        ctx.snapshots.mark_source_batch(
            written.source, validated.fingerprint, written.run_id, ctx.clock().isoformat()
        )
    return outcome
