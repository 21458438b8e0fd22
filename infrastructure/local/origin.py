"""The one local origin (``http://127.0.0.1:8080``), routed like CloudFront on AWS:

* ``/analysis/*``, ``/predict`` -> the Chalice API, invoked with API Gateway proxy events
  (chalice's LocalGateway builds them, with path parameters and request context);
* ``/runs/{id}/stream`` -> the SSE ASGI app (what the Function URL serves on AWS);
* everything else -> the static web UI export (``frontend/out``).
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from infrastructure.local.lambda_runtime import load_handler
from infrastructure.resources import API, ROOT, STREAM, STREAM_ASGI

WEB_ROOT = ROOT / "frontend" / "out"


def api_gateway(chalice_app: Any) -> Any:
    from chalice.config import Config
    from chalice.local import LocalGateway

    return LocalGateway(chalice_app, Config(chalice_stage="local", config_from_disk={}))


def build_origin(web_root: Path = WEB_ROOT) -> Starlette:
    gateway = api_gateway(load_handler(API))
    stream_app: ASGIApp = load_handler(replace(STREAM, handler=STREAM_ASGI))  # type: ignore[assignment]

    async def api(request: Request) -> Response:
        from chalice.local import LocalGatewayException

        body = await request.body()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = dict(request.headers)
        try:
            response = await asyncio.to_thread(
                gateway.handle_request, request.method, path, headers, body
            )
        except LocalGatewayException as exc:
            return Response(exc.body or b"", status_code=exc.CODE, headers=exc.headers)
        content = response.get("body") or b""
        if response.get("isBase64Encoded"):
            content = base64.b64decode(content)
        out_headers = {
            k: v for k, v in response.get("headers", {}).items() if k.lower() != "content-length"
        }
        return Response(content, status_code=response["statusCode"], headers=out_headers)

    async def not_built(request: Request) -> Response:
        return PlainTextResponse(
            "The web UI is not built yet: run `make frontend` (make up does it).", 503
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    routes: list[Any] = [
        Route("/healthz", health),
        Route("/analysis/{rest:path}", api, methods=methods),
        Route("/predict", api, methods=methods),
        Mount("/runs", app=_prefixed(stream_app, "/runs")),
    ]
    if web_root.is_dir():
        routes.append(Mount("/", app=StaticFiles(directory=web_root, html=True)))
    else:
        routes.append(Route("/{path:path}", not_built))
    return Starlette(routes=routes)


def _prefixed(app: ASGIApp, prefix: str) -> ASGIApp:
    """Give the mounted SSE app the full path, as the Function URL does on AWS."""

    async def call(scope: Any, receive: Any, send: Any) -> None:
        scope = dict(
            scope,
            path=prefix + scope["path"] if not scope["path"].startswith(prefix) else scope["path"],
            root_path="",
        )
        await app(scope, receive, send)

    return call
