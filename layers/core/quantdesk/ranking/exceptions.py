"""Why a prompt-engine provider could not rerank. These never reach a client: the engine falls
back to the deterministic order and reports ``reason`` in ``engine.fallback_reason``."""

from __future__ import annotations

from typing import ClassVar


class ProviderError(Exception):
    """Base: the provider gave no usable answer."""

    reason: ClassVar[str] = "error"


class ProviderTimeout(ProviderError):
    """No answer within the provider's time budget."""

    reason = "timeout"


class ProviderUnavailable(ProviderError):
    """The provider refused or could not be reached (throttled, no access, no credentials)."""

    reason = "unavailable"


class ProviderMalformedOutput(ProviderError):
    """The answer broke the JSON contract (not JSON, unknown ids, duplicates, truncated)."""

    reason = "malformed"
