"""Errors of the predict feature, each a domain error with its one HTTP status."""

from __future__ import annotations

from quantdesk.errors import InvalidRequest, NotFound, ServiceUnavailable


class UnknownModel(NotFound):
    """No registered model, version or alias by that name."""


class BadScoringInput(InvalidRequest):
    """The payload is in none of the protocol's formats, or does not fit the signature."""


class ModelUnavailable(ServiceUnavailable):
    """A registered version whose files are missing or unreadable: it cannot serve."""


class UnsupportedModel(InvalidRequest):
    """A model directory this registry cannot serve (no MLmodel, no ONNX flavor, a signature
    it cannot enforce): refused at registration."""
