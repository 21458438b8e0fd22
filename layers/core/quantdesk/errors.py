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


#: how much of a client's own input an error message quotes back
QUOTE_LIMIT = 80


def quoted(value: object) -> str:
    """Client input for an error message: ``repr`` (quotes, escapes control and surrogate
    characters), ASCII only, truncated. The body is JSON, never HTML; this keeps it readable."""
    text = ascii(value if isinstance(value, str) else str(value))
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 4] + "...'"


class QuantdeskError(Exception):
    """Base of every error a client may see; ``field`` names the input at fault."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        #: response headers that belong to this error (WWW-Authenticate, Retry-After, ...)
        self.headers = headers or {}

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


class Forbidden(QuantdeskError):
    """Authenticated, but not allowed (e.g. a development-only action on AWS)."""

    status = 403
    code = "forbidden"


class NotFound(QuantdeskError):
    """The addressed resource does not exist (or is not the caller's)."""

    status = 404
    code = "not_found"


class MethodNotAllowed(QuantdeskError):
    status = 405
    code = "method_not_allowed"


class Conflict(QuantdeskError):
    """The request conflicts with the resource's state (e.g. cancelling a finished run)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(QuantdeskError):
    """The request body is over the limit (refused before it is read whole)."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(QuantdeskError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(QuantdeskError):
    """A rate limit was hit."""

    status = 429
    code = "rate_limited"


class ServiceUnavailable(QuantdeskError):
    """A dependency (AWS service, LLM provider) failed; the request may be retried."""

    status = 503
    code = "service_unavailable"


class InternalError(QuantdeskError):
    """A bug: logged with its traceback; the client learns nothing more."""


#: the error a bare HTTP status stands for (framework answers: unknown route, wrong method...)
BY_STATUS: dict[int, type[QuantdeskError]] = {
    cls.status: cls
    for cls in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        ServiceUnavailable,
        InternalError,
    )
}


def for_status(status: int, message: str) -> QuantdeskError:
    """The domain error for an HTTP status a framework produced (4xx/5xx not listed map to
    ``invalid_request`` / ``internal_error``)."""
    cls = BY_STATUS.get(status) or (InvalidRequest if status < 500 else InternalError)
    return cls(message)


def from_validation_error(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    """The first pydantic validation problem as a 400 naming its field (dotted path)."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    field = ".".join(part for part in (prefix, loc) if part) or None
    message = first["msg"] if not field else f"{field}: {first['msg']}"
    return InvalidRequest(message, field=field)
