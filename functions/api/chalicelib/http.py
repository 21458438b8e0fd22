"""HTTP glue shared by every route: JSON body parsing with pydantic and the one place domain
errors become HTTP responses (``{"code", "message", "field"}``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from quantdesk.errors import InvalidRequest, QuantdeskError, from_validation_error
from quantdesk.observability import logger

M = TypeVar("M", bound=BaseModel)

#: every API body is a small JSON object; anything larger is a mistake or an attack
MAX_BODY_BYTES = 64 * 1024

JSON_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
}


def error_response(error: QuantdeskError) -> Response:
    return Response(body=error.to_body(), status_code=error.status, headers=JSON_HEADERS)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers=JSON_HEADERS)


def parse_body(request: Request, model: type[M]) -> M:
    """Parse the request's JSON body into ``model``; any problem is a 400 naming the field."""
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"request body is over {MAX_BODY_BYTES} bytes", field="body")
    try:
        payload = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested arrays
        raise InvalidRequest("request body is not valid JSON", field="body") from exc
    if not isinstance(payload, dict):
        raise InvalidRequest("request body must be a JSON object", field="body")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def parse_query(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query_params or {}))
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes translate domain errors to HTTP responses, so no view can turn
    a client mistake into a 500."""

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
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
