"""Bulk loads of a ``files`` landing prefix: the ingestion workflow's Distributed Map reads the
files batch by batch, in parallel, then one ``fetch`` collects the batches and the usual
validate -> write -> publish steps publish each dataset's snapshot once.

A request with ``options.bulk`` set takes this path. Each map item is a batch of the prefix's
S3 objects (``ItemReader`` ``listObjectsV2``, ``ItemBatcher``); :func:`read_batch` reads its
files (a bad file is reported and quarantined, the rest of the batch loads) into the raw zone
under the run; :func:`collect` joins the batches into what a whole-prefix fetch returns, and
reports the files of batches that failed (tolerated by the map up to its percentage).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.datalake import columnar
from quantdesk.datalake.layout import RAW_PREFIX, quarantine_payload_key
from quantdesk.ingestion.pipeline import storable
from quantdesk.ingestion.sources.base import Batch, FetchRequest, FileIssue, capped
from quantdesk.ingestion.sources.files import SUFFIXES, FilesSource

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore

BULK_OPTION: Final = "bulk"
SOURCE: Final = FilesSource.name


def is_bulk(request: FetchRequest) -> bool:
    return request.source == SOURCE and bool(request.options.get(BULK_OPTION))


def _batches_prefix(run_id: str) -> str:
    return f"{RAW_PREFIX}/{SOURCE}/{run_id}/batches/"


def read_batch(
    run_id: str, request: FetchRequest, keys: list[str], store: LakeObjectStore
) -> dict[str, Any]:
    """Read one batch of files into the raw zone; ``{"batch", "files"}``."""
    batch_id = hashlib.sha1("\n".join(sorted(keys)).encode()).hexdigest()[:16]
    folder = f"{_batches_prefix(run_id)}{batch_id}/"
    batch = FilesSource().read(request, store, keys)
    staged = {}
    for dataset, frame in batch.frames.items():
        key = f"{folder}{dataset}.parquet"
        store.put_bytes(key, columnar.encode(storable(frame)))
        staged[dataset] = key
    for name, payload in batch.rejected.items():
        store.put_bytes(quarantine_payload_key(run_id, SOURCE, name), payload)
    manifest = {
        "keys": sorted(keys),
        "staged": staged,
        "files": batch.metadata.get("files", {}),
        "issues": [i.model_dump(mode="json") for i in batch.issues],
    }
    store.put_json(f"{folder}batch.json", manifest)
    return {"batch": batch_id, "files": len(keys)}


def collect(run_id: str, request: FetchRequest, store: LakeObjectStore) -> Batch:
    """The batches the map read, as one fetch of the whole prefix (frames, issues, layouts);
    the files of a batch that failed are reported as ``batch_failed``."""
    manifests = [
        store.get_json(key)
        for key in store.list_keys(_batches_prefix(run_id))
        if key.endswith("/batch.json")
    ]
    parts: dict[str, list[pd.DataFrame]] = {}
    issues: list[FileIssue] = []
    files: dict[str, int] = {}
    read: set[str] = set()
    for manifest in manifests:
        read.update(manifest["keys"])
        issues.extend(FileIssue.model_validate(i) for i in manifest["issues"])
        for how, count in manifest["files"].items():
            files[how] = files.get(how, 0) + count
        for dataset, key in manifest["staged"].items():
            parts.setdefault(dataset, []).append(columnar.decode(store.get_bytes(key)))
    prefix = request.prefix or ""
    listed = [k for k in store.list_keys(prefix) if k.lower().endswith(SUFFIXES)]
    issues.extend(
        FileIssue(file=k.removeprefix(prefix).lstrip("/"), reason="batch_failed")
        for k in listed
        if k not in read
    )
    frames = {d: pd.concat(f, ignore_index=True) for d, f in parts.items()}
    return Batch(
        source=SOURCE,
        frames=frames,
        metadata={"prefix": prefix, "files": files, "batches": len(manifests)},
        issues=capped(issues, "files"),
    )
