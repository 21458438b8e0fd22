"""Domain errors. Each maps to one HTTP status in one place (the API's ``http`` module); code
never branches on an error's message text."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, ValidationError


class ErrorBody(BaseModel):
    """Every 4xx/5xx body of the API and the stream."""

    code: str = Field(description="stable machine-readable code, e.g. invalid_request")
    message: str
    field: str | None = Field(description="the input at fault (dotted path), when there is one")


class QuantdeskError(Exception):
    """Base of every error a client may see; ``field`` names the input at fault."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_body(self) -> dict[str, str | None]:
        return ErrorBody(code=self.code, message=self.message, field=self.field).model_dump()


class InvalidRequest(QuantdeskError):
    """Malformed or invalid input (bad JSON, failed validation)."""

    status = 400
    code = "invalid_request"


class InvalidCursor(InvalidRequest):
    """A page cursor this caller was never given (garbled, forged or another owner's)."""

    def __init__(self) -> None:
        super().__init__("invalid cursor", field="cursor")


class Unauthorized(QuantdeskError):
    """Missing, expired or forged credentials or stream token."""

    status = 401
    code = "unauthorized"


class NotFound(QuantdeskError):
    """The addressed resource does not exist (or is not the caller's)."""

    status = 404
    code = "not_found"


class Conflict(QuantdeskError):
    """The request conflicts with the resource's state (e.g. cancelling a finished run)."""

    status = 409
    code = "conflict"


class ServiceUnavailable(QuantdeskError):
    """A dependency (AWS service, LLM provider) failed; the request may be retried."""

    status = 503
    code = "service_unavailable"


def from_validation_error(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    """The first pydantic validation problem as a 400 naming its field (dotted path)."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    field = ".".join(part for part in (prefix, loc) if part) or None
    message = first["msg"] if not field else f"{field}: {first['msg']}"
    return InvalidRequest(message, field=field)
