"""Merge validated rows into the lake and publish immutable snapshots.

Two steps, so a crash between them never leaves a half-written snapshot:

1. :func:`stage_snapshot` merges the rows into the partitions they touch (a re-ingested row
   replaces the row with the same keys), writes each changed partition as a new
   content-addressed file and a *pending* manifest. Nothing is visible to readers yet.
2. :func:`publish_snapshot` writes the final manifest, then the snapshot item and the ``LATEST``
   pointer in one DynamoDB transaction. Readers only follow ``LATEST``.

A batch that changes no partition yields ``changed=False`` and no snapshot (idempotency).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel

from quantdesk.datalake import columnar
from quantdesk.datalake.layout import (
    SNAPSHOT_PREFIX,
    lake_key,
    layout,
    manifest_key,
    split_partitions,
)
from quantdesk.datalake.models import Coverage, PartitionFile, SnapshotManifest, SnapshotRecord
from quantdesk.datalake.snapshot_files import load_manifest, load_manifest_at, read_file
from quantdesk.datalake.universes import summarize_universes

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository

IO_THREADS = 8


class StagedSnapshot(BaseModel):
    """The outcome of :func:`stage_snapshot`, small enough for a Step Functions payload."""

    dataset: str
    changed: bool
    parent_id: str | None = None
    pending_manifest_key: str | None = None
    checksum: str | None = None
    rows_in: int = 0
    rows_added: int = 0
    rows_replaced: int = 0
    partitions_written: int = 0


def _date_range(dataset: str, frame: pd.DataFrame) -> tuple[dt.date | None, dt.date | None]:
    column = layout(dataset).date_column
    if column is None or frame.empty:
        return None, None
    values = frame[column].dropna()
    if values.empty:
        return None, None
    return values.min().date(), values.max().date()


def _merge_partition(
    store: LakeObjectStore,
    dataset: str,
    partition: str,
    rows: pd.DataFrame,
    existing: PartitionFile | None,
) -> tuple[PartitionFile | None, int, int]:
    """Merge ``rows`` into one partition: (new file, or None if unchanged; added; replaced)."""

    keys = list(layout(dataset).keys)
    old = read_file(store, dataset, existing) if existing else None
    merged = rows if old is None else pd.concat([old, rows], ignore_index=True)
    merged = merged.drop_duplicates(subset=keys, keep="last")
    merged = merged.sort_values(keys, kind="stable").reset_index(drop=True)
    old_rows = 0 if old is None else len(old)
    added = len(merged) - old_rows
    replaced = len(rows.drop_duplicates(subset=keys)) - added
    data = columnar.encode(merged)
    sha = columnar.digest(data)
    if existing is not None and existing.sha256 == sha:
        return None, 0, 0
    key = lake_key(dataset, partition, sha)
    if not store.exists(key):
        store.put_bytes(key, data)
    first, last = _date_range(dataset, merged)
    symbols = int(merged["symbol"].nunique()) if "symbol" in merged.columns else 0
    file = PartitionFile(
        partition=partition,
        key=key,
        sha256=sha,
        rows=len(merged),
        bytes=len(data),
        min_date=first,
        max_date=last,
        symbols=symbols,
    )
    return file, added, replaced


def _checksum(files: list[PartitionFile]) -> str:
    lines = "\n".join(f"{f.partition}:{f.sha256}" for f in sorted(files, key=lambda f: f.partition))
    return hashlib.sha256(lines.encode()).hexdigest()


def _coverage(files: list[PartitionFile], symbols: int) -> Coverage:
    firsts = [f.min_date for f in files if f.min_date is not None]
    lasts = [f.max_date for f in files if f.max_date is not None]
    return Coverage(
        min_date=min(firsts) if firsts else None,
        max_date=max(lasts) if lasts else None,
        symbols=symbols,
    )


def stage_snapshot(
    store: LakeObjectStore,
    snapshots: SnapshotRepository,
    dataset: str,
    frame: pd.DataFrame,
    *,
    sources: list[str],
    synthetic: bool = False,
) -> StagedSnapshot:
    """Merge ``frame`` (validated, canonical rows of ``dataset``) into new partition files."""

    frame = columnar.canonical(dataset, frame)
    parent = snapshots.latest(dataset)
    parent_manifest = load_manifest(store, parent) if parent else None
    existing = parent_manifest.by_partition() if parent_manifest else {}

    jobs = list(split_partitions(dataset, frame))
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        outcomes = list(
            pool.map(
                lambda job: _merge_partition(store, dataset, job[0], job[1], existing.get(job[0])),
                jobs,
            )
        )
    changed = {file.partition: file for file, _, _ in outcomes if file is not None}
    added = sum(a for _, a, _ in outcomes)
    replaced = sum(r for _, _, r in outcomes)
    if not changed:
        return StagedSnapshot(
            dataset=dataset,
            changed=False,
            parent_id=parent.snapshot_id if parent else None,
            checksum=parent.checksum if parent else None,
            rows_in=len(frame),
        )

    files = sorted({**existing, **changed}.values(), key=lambda f: f.partition)
    symbols = set(parent_manifest.symbols) if parent_manifest else set()
    if "symbol" in frame.columns:
        symbols.update(frame["symbol"].unique().tolist())
    checksum = _checksum(files)
    manifest = SnapshotManifest(
        dataset=dataset,
        files=files,
        checksum=checksum,
        row_count=sum(f.rows for f in files),
        coverage=_coverage(files, len(symbols)),
        synthetic=synthetic or bool(parent_manifest and parent_manifest.synthetic),
        sources=sorted(set(sources) | set(parent_manifest.sources if parent_manifest else [])),
        symbols=sorted(symbols),
    )
    if dataset == "universe":
        merged = pd.concat([read_file(store, dataset, f) for f in files], ignore_index=True)
        manifest.universes = summarize_universes(merged)
    pending = f"{SNAPSHOT_PREFIX}/{dataset}/pending/{checksum}.json"
    store.put_json(pending, manifest.model_dump(mode="json"))
    return StagedSnapshot(
        dataset=dataset,
        changed=True,
        parent_id=parent.snapshot_id if parent else None,
        pending_manifest_key=pending,
        checksum=checksum,
        rows_in=len(frame),
        rows_added=added,
        rows_replaced=replaced,
        partitions_written=len(changed),
    )


def new_snapshot_id(now: dt.datetime, checksum: str) -> str:
    """Sortable, unique per content: ``20261030T220000123456Z-1a2b3c4d``."""
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}-{checksum[:8]}"


def publish_snapshot(
    store: LakeObjectStore,
    snapshots: SnapshotRepository,
    staged: StagedSnapshot,
    *,
    run_id: str | None,
    now: dt.datetime,
) -> SnapshotRecord | None:
    """Make a staged snapshot visible (``LATEST``); None when nothing changed."""
    if not staged.changed or staged.pending_manifest_key is None:
        return None
    manifest = load_manifest_at(store, staged.pending_manifest_key)
    snapshot_id = new_snapshot_id(now, manifest.checksum)
    key = manifest_key(staged.dataset, snapshot_id)
    store.put_json(key, manifest.model_dump(mode="json"))
    record = SnapshotRecord(
        dataset=staged.dataset,
        snapshot_id=snapshot_id,
        created_at=now.astimezone(dt.UTC).isoformat(),
        manifest_key=key,
        checksum=manifest.checksum,
        row_count=manifest.row_count,
        file_count=len(manifest.files),
        min_date=manifest.coverage.min_date,
        max_date=manifest.coverage.max_date,
        symbols=manifest.coverage.symbols,
        parent_id=staged.parent_id,
        run_id=run_id,
        sources=manifest.sources,
        synthetic=manifest.synthetic,
        universes=manifest.universes,
    )
    snapshots.publish(record)
    return record
