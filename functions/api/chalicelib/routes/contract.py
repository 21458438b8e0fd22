"""GET /analysis/openapi.json: the API's OpenAPI 3.1 document (public: it describes the
contract, nobody's data)."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.http import ApiBlueprint, json_response

routes = ApiBlueprint(__name__)


@cache
def document() -> dict[str, Any]:
    # cold start: built from the models on the document's first request only
    from quantdesk.openapi import document as build  # noqa: PLC0415

    return build()


@routes.route("/analysis/openapi.json", methods=["GET"], public=True)
def openapi_document() -> Any:
    return json_response(document())
