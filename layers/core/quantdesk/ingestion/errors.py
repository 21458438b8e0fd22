"""Ingestion errors. The state machine retries the transient ones (by error name)."""

from __future__ import annotations


class IngestionError(Exception):
    """Base class of ingestion errors."""


class UnknownSourceError(IngestionError):
    """The requested source is not configured."""


class SourceUnavailableError(IngestionError):
    """A source could not be reached or answered with a server error: worth retrying."""


class SourceConfigError(IngestionError):
    """A source is misconfigured (missing path, unknown dataset, no API key...): not retried."""


class MalformedPayloadError(IngestionError):
    """A vendor answered something we cannot parse whole: the payload is quarantined, unread."""

    def __init__(self, message: str, payload: bytes) -> None:
        super().__init__(message)
        self.payload = payload
