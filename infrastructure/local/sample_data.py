"""First-start sample data for the local cloud: the synthetic ``sample`` vendor loaded into the
lake so the first prompt already returns results (labelled synthetic in every snapshot)."""

from __future__ import annotations

import datetime as dt


def ensure_sample_data() -> str:
    from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
    from quantdesk.datalake.writer import publish_snapshot, stage_snapshot
    from quantdesk.ingestion.sources.sample import generate
    from quantdesk.settings import get_settings

    settings = get_settings()
    store = LakeObjectStore(settings.data_bucket)
    snapshots = SnapshotRepository(settings.table_name)
    if snapshots.latest("prices") is not None:
        return "sample data  already loaded"
    frames, _ = generate()
    for dataset, frame in frames.items():
        staged = stage_snapshot(
            store, snapshots, dataset, frame, sources=["sample"], synthetic=True
        )
        publish_snapshot(store, snapshots, staged, run_id=None, now=dt.datetime.now(dt.UTC))
    rows = sum(len(f) for f in frames.values())
    return f"sample data  loaded {rows:,} synthetic rows into the lake"
