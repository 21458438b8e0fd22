"""The OpenAPI document (docs/openapi.json) names every public route the API (the predict
function's included) and the run stream serve, with the methods they answer, and describes each
error as the one error body."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from starlette.routing import Route

from infrastructure.local.lambda_runtime import load_handler
from infrastructure.resources import PREDICT, STREAM, STREAM_ASGI
from quantdesk.openapi import document

#: served for the platform and for tests, not for clients
INTERNAL = {"/healthz", "/runs/_stats"}


def _served(api_app: Any) -> set[tuple[str, str]]:
    api = {
        (path, method.lower())
        for path, entries in api_app.routes.items()
        for method in entries
        if method != "OPTIONS"  # CORS preflight, answered by API Gateway
    }
    predict_app = load_handler(PREDICT)
    api |= {
        (path, method.lower())
        for path, entries in predict_app.routes.items()
        for method in entries
        if method != "OPTIONS"
    }
    stream_app = load_handler(replace(STREAM, handler=STREAM_ASGI))
    stream = {
        (route.path, method.lower())
        for route in stream_app.routes
        if isinstance(route, Route) and route.path not in INTERNAL
        for method in route.methods or ()
        if method != "HEAD"
    }
    return api | stream


def test_every_served_route_is_in_the_document_and_nothing_else(api_app: Any) -> None:
    documented = {
        (path, method) for path, operations in document()["paths"].items() for method in operations
    }
    assert documented == _served(api_app)


def test_every_error_response_is_the_error_body() -> None:
    doc = document()
    assert set(doc["components"]["schemas"]["ErrorBody"]["required"]) == {
        "code",
        "message",
        "field",
    }
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, method)


def test_every_reference_resolves() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    prefix = "#/components/schemas/"
    assert all(ref.startswith(prefix) and ref[len(prefix) :] in schemas for ref in refs)


def test_the_document_is_served_publicly_with_the_security_scheme(api_client: Any) -> None:
    response = api_client.http.get("/analysis/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.body)
    assert served == json.loads(json.dumps(document()))
    assert served["components"]["securitySchemes"]["cognito"]["scheme"] == "bearer"
    for path, operations in served["paths"].items():
        for method, operation in operations.items():
            if path.startswith(("/analysis/", "/predict")) and path != "/analysis/openapi.json":
                assert "401" in operation["responses"], (method, path)
                assert operation.get("security") != [], (method, path)
            else:
                assert operation["security"] == [], (method, path)
    run = served["paths"]["/analysis/run"]["post"]
    assert "429" in run["responses"] and "413" in run["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in run["parameters"])
