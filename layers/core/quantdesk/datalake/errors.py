"""Data lake errors."""

from __future__ import annotations


class DataLakeError(Exception):
    """Base class of data lake errors."""


class DatasetNotFoundError(DataLakeError):
    """A dataset has no published snapshot (nothing was ingested yet)."""

    def __init__(self, dataset: str) -> None:
        super().__init__(f"dataset {dataset!r} has no published snapshot; run `quantdesk ingest`")
        self.dataset = dataset


class SnapshotConflictError(DataLakeError):
    """Another writer published a snapshot of the same dataset first (optimistic lock lost)."""


class LakeStorageError(DataLakeError):
    """S3 or DynamoDB refused a data lake operation."""
