"""Read a snapshot's immutable objects, its manifest and its partition files, cached for warm
Lambdas: both are content-addressed or write-once, so a cached copy never goes stale. The writer
merges onto them and the reader serves scenarios from them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from quantdesk.datalake import columnar
from quantdesk.datalake.layout import LATER_COLUMNS
from quantdesk.datalake.models import PartitionFile, SnapshotManifest, SnapshotRecord

if TYPE_CHECKING:
    import pandas as pd

    from quantdesk.datalake.repository import LakeObjectStore


def load_manifest(store: LakeObjectStore, record: SnapshotRecord) -> SnapshotManifest:
    """The manifest of a published snapshot."""
    return load_manifest_at(store, record.manifest_key)


_MANIFESTS: dict[str, SnapshotManifest] = {}


def load_manifest_at(store: LakeObjectStore, key: str) -> SnapshotManifest:
    # Manifests are immutable: cache them for warm Lambdas (bounded by the number of snapshots).
    cache_key = f"{store.bucket}/{key}"
    manifest = _MANIFESTS.get(cache_key)
    if manifest is None:
        manifest = SnapshotManifest.model_validate(store.get_json(key))
        if len(_MANIFESTS) > 256:
            _MANIFESTS.clear()
        _MANIFESTS[cache_key] = manifest
    return manifest


class _FrameCache:
    """Decoded partition files of this process, newest last, bounded by total rows.

    Partition files are content-addressed and never change, so a warm Lambda can keep them;
    pandas' copy-on-write protects the cached frames from callers' edits.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._frames: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> pd.DataFrame | None:
        with self._lock:
            frame = self._frames.get(key)
            if frame is not None:
                self._frames.move_to_end(key)
            return frame

    def put(self, key: str, frame: pd.DataFrame) -> None:
        if len(frame) > self.max_rows:
            return
        with self._lock:
            if key in self._frames:
                return
            self._frames[key] = frame
            self._rows += len(frame)
            while self._rows > self.max_rows:
                _, evicted = self._frames.popitem(last=False)
                self._rows -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._rows = 0


#: ~2M rows of the widest dataset is ~200 MB: a fraction of the worker's memory
FRAME_CACHE: Final = _FrameCache(max_rows=2_000_000)


def read_file(store: LakeObjectStore, dataset: str, file: PartitionFile) -> pd.DataFrame:
    """One partition file of ``dataset``, decoded to its canonical column types."""
    cache_key = f"{store.bucket}/{file.key}"
    frame = FRAME_CACHE.get(cache_key)
    if frame is None:
        stored = columnar.decode(store.get_bytes(file.key))
        for column in LATER_COLUMNS.get(dataset, ()):
            if column not in stored.columns:
                stored[column] = None
        frame = columnar.canonical(dataset, stored)
        FRAME_CACHE.put(cache_key, frame)
    return frame
