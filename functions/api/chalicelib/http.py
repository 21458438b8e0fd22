"""HTTP glue shared by every route: JSON body parsing with pydantic, the one place domain
errors become HTTP responses (``{"code", "message", "field"}``), and the middleware that gives
every response (Chalice's own 405/415/500 included) that shape and the security headers.

Every route is registered through :class:`ApiBlueprint`, which attaches API Gateway's Cognito
authorizer and CORS for the one configured origin, unless a route is declared ``public``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint, CognitoUserPoolAuthorizer, CORSConfig, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from quantdesk.errors import (
    InvalidRequest,
    PayloadTooLarge,
    QuantdeskError,
    for_status,
    from_validation_error,
)
from quantdesk.observability import logger
from quantdesk.settings import get_settings
from quantdesk.web import API_HEADERS, ERROR_CONTENT_TYPE, MAX_BODY_BYTES

M = TypeVar("M", bound=BaseModel)

#: deeper JSON than this is no API body (and would break serialisers further down)
MAX_DEPTH = 16

FRAMEWORK_MESSAGES = {
    405: "method not allowed on this path (see the Allow header)",
    415: "unsupported media type: send application/json",
    500: "internal error",
}

JSON_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
}

#: API Gateway's Cognito user-pool authorizer (the template wires the pool; locally the origin
#: verifies tokens the same way and fills in the same claims)
AUTHORIZER = CognitoUserPoolAuthorizer(
    "quantdesk-users", provider_arns=[get_settings().user_pool_arn]
)
CORS = CORSConfig(
    allow_origin=get_settings().allowed_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
    expose_headers=["Retry-After", "RateLimit", "RateLimit-Policy"],
    max_age=600,
)


def error_response(error: QuantdeskError) -> Response:
    return Response(
        body=error.to_body(), status_code=error.status, headers={**JSON_HEADERS, **error.headers}
    )


def json_response(body: Any, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers=JSON_HEADERS)


def parse_body(request: Request, model: type[M]) -> M:
    """Parse the request's JSON body into ``model``; any problem is a 4xx naming the field."""
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is over {MAX_BODY_BYTES} bytes", field="body")
    try:
        payload = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested arrays
        raise InvalidRequest("request body is not valid JSON", field="body") from exc
    if not isinstance(payload, dict):
        raise InvalidRequest("request body must be a JSON object", field="body")
    check_json(payload)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def check_json(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse what JSON can carry but nothing downstream can store: nesting deeper than
    ``MAX_DEPTH`` and strings with lone surrogates (not encodable as UTF-8)."""
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"nested deeper than {MAX_DEPTH} levels", field=path or "body")
    if isinstance(value, str):
        if not _is_utf8(value):
            raise InvalidRequest("text must be valid Unicode", field=path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not _is_utf8(key):
                raise InvalidRequest("names must be valid Unicode", field=path or "body")
            check_json(item, child, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{path}.{index}" if path else str(index), depth + 1)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_query(request: Request, model: type[M]) -> M:
    params = dict(request.query_params or {})
    check_json(params)
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def uniform_responses(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: Chalice's own answers (``{"Code", "Message"}``: 405, 415, an unhandled
    500) become the API's error shape; every response gets the security headers."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and not (isinstance(body, dict) and "code" in body):
        # fixed messages: Chalice's own quote the client's headers
        message = FRAMEWORK_MESSAGES.get(response.status_code, "request refused")
        error = for_status(response.status_code, message)
        response.body = error.to_body()
        response.status_code = error.status
        response.headers["Content-Type"] = ERROR_CONTENT_TYPE
    for name, value in API_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes are authorized (unless ``public``), CORS-limited to the
    configured origin, and translate domain errors to HTTP responses, so no view can turn a
    client mistake into a 500."""

    def route(self, path: str, *, public: bool = False, **kwargs: Any) -> Callable[..., Any]:
        kwargs.setdefault("cors", CORS)
        if not public:
            kwargs.setdefault("authorizer", AUTHORIZER)
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def translated(*args: Any, **kw: Any) -> Any:
                try:
                    return view(*args, **kw)
                except QuantdeskError as exc:
                    if exc.status >= 500:
                        logger.exception("request failed", extra={"code": exc.code})
                    return error_response(exc)

            register(translated)
            return view

        return decorator
