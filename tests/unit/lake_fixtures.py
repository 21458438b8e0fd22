"""Fixtures shared by the data lake and ingestion tests: the lake over moto (the shared
``moto_aws`` fixture builds the table and buckets from ``infrastructure.resources``), with a
pinned clock."""

from __future__ import annotations

import datetime as dt

import pytest

from infrastructure import resources
from quantdesk.datalake import snapshot_files
from quantdesk.datalake.reader import Lake
from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
from quantdesk.ingestion.pipeline import IngestionContext

NOW = dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC)


@pytest.fixture
def ctx(moto_aws: None) -> IngestionContext:
    snapshot_files.FRAME_CACHE.clear()  # each test starts cold: moto buckets are new
    snapshot_files._MANIFESTS.clear()
    clock = iter(NOW + dt.timedelta(seconds=i) for i in range(100_000))
    return IngestionContext(
        LakeObjectStore(resources.DATA_BUCKET),
        SnapshotRepository(resources.TABLE.name),
        clock=lambda: next(clock),
    )


@pytest.fixture
def lake(ctx: IngestionContext) -> Lake:
    return Lake(ctx.store, ctx.snapshots)
