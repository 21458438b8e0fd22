"""The one local origin (``http://127.0.0.1:8080``), standing in for the template's CloudFront
distribution, which the endpoint's CloudFormation cannot create. :func:`routing_from_stack`
reads the distribution's cache behaviors (path pattern -> origin, in CloudFront's order, the
default behavior last) and what each origin is:

* the REST API (``AWS::ApiGateway::RestApi``) -> the Chalice app of the function it integrates,
  invoked with API Gateway proxy events (chalice's LocalGateway builds them, with path
  parameters and request context). The origin plays API Gateway's part: the Cognito authorizer
  (``infrastructure.local.authorizer``) on every route Chalice declares with one, the body-size
  limit, and errors in the API's shape;
* the Function URL (``AWS::Lambda::Url``) -> the ASGI app of its target function (what the
  Lambda Web Adapter serves on AWS);
* the web bucket (``AWS::S3::Bucket``) -> the static web UI export (``frontend/out``) from disk.

Outside the distribution, the origin answers ``/healthz`` (readiness), the user pool domain's
sign-in endpoints (``/auth-config.json``, ``/oauth2/*``, ``/logout``, emulated over the local
pool by ``infrastructure.local.hosted_ui``) and passes ``/runs/_stats`` (the SSE app's
process-local counters, on when ``QD_STREAM_STATS`` is set, for tests and benchmarks) to the
stream app. Every response carries the security headers; nothing announces the server. With
``QD_LOCAL_FAULTS=1`` (tests and ``make reliability`` only) the origin also serves
``POST /_local/faults`` (:func:`faults_route`), which arms the local cloud's injected faults.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.local.authorizer import CognitoVerifier, JwksCache, missing_token
from infrastructure.local.hosted_ui import HostedUi, describe_client
from infrastructure.local.identity import LocalIdentity, sign_in
from infrastructure.local.lambda_runtime import definitions, load_handler
from infrastructure.local.starts_first import StartsFirst
from infrastructure.resources import ROOT, STREAM_ASGI, USER_POOL, Function
from quantdesk.errors import NotFound, PayloadTooLarge, QuantdeskError, for_status
from quantdesk.web import API_HEADERS, MAX_BODY_BYTES, PAGE_HEADERS

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

WEB_ROOT = ROOT / "frontend" / "out"
#: API requests handled at once (API Gateway invokes the API's Lambda concurrently): every start
#: of a burst waits on the endpoint together, none queues here (16 made 100 starts wait in turn)
API_CONCURRENCY = 100
API_PREFIXES = ("/analysis", "/predict", "/runs", "/inbox")
_API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")


@dataclass(frozen=True)
class Routing:
    """CloudFront's routing: ``behaviors`` are (path pattern, origin kind) in evaluation order;
    kinds are ``api``, ``stream`` and ``web``."""

    behaviors: tuple[tuple[str, str], ...]
    default: str
    api: Function | None
    stream: Function | None
    #: further functions the REST API integrates (the predict function), tried in order for a
    #: route the API's app does not have
    more_apis: tuple[Function, ...] = ()

    def kind(self, path: str) -> str:
        for pattern, kind in self.behaviors:
            if fnmatch.fnmatchcase(path, pattern):
                return kind
        return self.default


def routing_from_stack(stack: DeployedStack) -> Routing:
    from infrastructure.local.stack import referenced

    (distribution,) = stack.resources_of("AWS::CloudFront::Distribution").values()
    config = distribution["DistributionConfig"]
    resources = stack.template["Resources"]
    defined = definitions()
    kinds: dict[str, str] = {}
    api: Function | None = None
    stream: Function | None = None
    more_apis: tuple[Function, ...] = ()

    def function(logical: str, handler: str) -> Function:
        return Function(
            name=stack.physical[logical], code_dir=defined[logical].code_dir, handler=handler
        )

    for origin in config["Origins"]:
        for logical in referenced(origin["DomainName"]) & set(resources):
            kind = resources[logical]["Type"]
            props = resources[logical].get("Properties", {})
            if kind == "AWS::Lambda::Url":
                (target,) = referenced(props["TargetFunctionArn"])
                stream = function(target, STREAM_ASGI)
                kinds[origin["Id"]] = "stream"
            elif kind in _API_TYPES:
                first, *others = (
                    function(r, resources[r]["Properties"]["Handler"])
                    for r in sorted(referenced(props))
                    if resources.get(r, {}).get("Type") == "AWS::Lambda::Function"
                )
                api, more_apis = first, tuple(others)
                kinds[origin["Id"]] = "api"
            elif kind == "AWS::S3::Bucket":
                kinds[origin["Id"]] = "web"
    behaviors = tuple(
        ("/" + b["PathPattern"].lstrip("/"), kinds[b["TargetOriginId"]])
        for b in config.get("CacheBehaviors", [])
    )
    return Routing(
        behaviors=behaviors,
        default=kinds[config["DefaultCacheBehavior"]["TargetOriginId"]],
        api=api,
        stream=stream,
        more_apis=more_apis,
    )


class GatewayAuthorizer:
    """Takes the place of chalice's LocalGatewayAuthorizer (which decodes Cognito tokens
    without verifying them): routes with an authorizer get verified claims or a 401."""

    def __init__(
        self, app: Any, verifier: CognitoVerifier, anonymous: dict[str, Any] | None
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.anonymous = anonymous

    def authorize(self, raw_path: str, event: dict[str, Any], context: Any) -> tuple[Any, Any]:
        context_ = event["requestContext"]
        entry = self.app.routes.get(context_["resourcePath"], {}).get(context_["httpMethod"])
        if entry is None or entry.authorizer is None:
            return event, context
        header = event["headers"].get("authorization")
        if header is not None:
            claims = self.verifier.claims(header)
        elif self.anonymous is not None:
            claims = self.anonymous
        else:
            raise missing_token()
        context_["authorizer"] = {"claims": claims, "principalId": claims.get("cognito:username")}
        return event, context


def api_gateway(chalice_app: Any, authorizer: GatewayAuthorizer) -> Any:
    from chalice.config import Config
    from chalice.local import LocalGateway

    gateway = LocalGateway(chalice_app, Config(chalice_stage="local", config_from_disk={}))
    gateway._authorizer = authorizer  # type: ignore[assignment]
    return gateway


def verifier_for(identity: LocalIdentity) -> CognitoVerifier:
    def fetch() -> dict[str, Any]:
        response = httpx.get(identity.jwks_url, timeout=5)
        response.raise_for_status()
        jwks: dict[str, Any] = response.json()
        return jwks

    return CognitoVerifier(identity.issuer, identity.client_id, JwksCache(fetch))


def error(exc: QuantdeskError) -> Response:
    return JSONResponse(exc.to_body(), status_code=exc.status, headers=exc.headers)


async def read_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is over the limit: by its Content-Length before
    reading anything, or while reading a chunked one. Never buffered whole beyond the limit."""
    declared = request.headers.get("content-length")
    too_large = PayloadTooLarge(f"request body is over {MAX_BODY_BYTES} bytes", field="body")
    if declared and (not declared.isascii() or not declared.isdigit()):
        raise for_status(400, "invalid Content-Length")
    if declared and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


_PATH_DELIMITERS = re.compile(r"[;?#\x00-\x1f\x7f]")


def build_origin(
    routing: Routing,
    identity: LocalIdentity,
    *,
    default_user: str | None = USER_POOL.default_user,
    web_root: Path = WEB_ROOT,
    extra_routes: Sequence[Route] = (),
    ready: Callable[[], bool] = lambda: True,
) -> Starlette:
    """The origin. ``default_user``: who a request without an Authorization header acts as
    (signed in once, through the pool, at start); None requires a token on every route.
    ``/healthz`` answers 503 until ``ready()`` (the local cloud's start-up has finished)."""
    verifier = verifier_for(identity)
    anonymous = None
    if default_user is not None:
        anonymous = verifier.claims("Bearer " + sign_in(identity, default_user).id_token)
    apps: dict[str, ASGIApp] = {"web": _web(web_root)}
    starts_first = StartsFirst()
    if routing.api is not None:
        gateways = []
        for function in (routing.api, *routing.more_apis):
            chalice_app = load_handler(function)
            authorizer = GatewayAuthorizer(chalice_app, verifier, anonymous)
            gateways.append(api_gateway(chalice_app, authorizer))
        apps["api"] = starts_first.api(_api(gateways))
    if routing.stream is not None:
        apps["stream"] = starts_first.stream(load_handler(routing.stream))  # type: ignore[arg-type]

    async def health(request: Request) -> Response:
        if not ready():
            return JSONResponse({"ok": False, "starting": True}, status_code=503)
        return JSONResponse({"ok": True})

    # local-only, outside the distribution: readiness, the user pool domain, the test counters
    routes: list[Any] = [
        *extra_routes,
        Route("/healthz", health),
        *HostedUi(identity, describe_client(identity), default_user).routes(),
    ]
    if "stream" in apps:
        routes.append(Route("/runs/_stats", apps["stream"]))
    routes.append(Route("/{path:path}", _Distribution(routing, apps)))
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.identity = identity
    return SecurityHeaders(app)  # type: ignore[return-value]


class _Distribution:
    """An ASGI app sending each request to its behavior's origin, the path unchanged."""

    def __init__(self, routing: Routing, apps: dict[str, ASGIApp]) -> None:
        self.routing = routing
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.apps[self.routing.kind(scope["path"])](scope, receive, send)


def _api(gateways: list[Any]) -> ASGIApp:
    from chalice.local import LocalGatewayException

    def handle_request(*request: Any) -> Any:
        """The first app with the route answers (API Gateway routes by path to the function
        each route integrates); an unknown route raises from the last."""
        for gateway in gateways[:-1]:
            try:
                return gateway.handle_request(*request)
            except LocalGatewayException:
                continue
        return gateways[-1].handle_request(*request)

    # the API's own threads, as API Gateway invokes its own Lambda: SSE tails waiting on the
    # default executor must not queue a run's start behind their table queries
    api_threads = ThreadPoolExecutor(API_CONCURRENCY, thread_name_prefix="api")

    async def api(request: Request) -> Response:
        try:
            body = await read_body(request)
        except QuantdeskError as exc:
            return error(exc)
        # chalice's matcher runs urlparse on the path: keep decoded ';', '?' and '#' (which it
        # would read as params, query or fragment) and control characters (which it drops: a
        # tab would leave `/scenarios/` and match the list) escaped, as API Gateway keeps them
        # in the path; from the scope's path, since `request.url` is re-parsed the same way
        path = _PATH_DELIMITERS.sub(lambda m: f"%{ord(m.group()):02X}", request.scope["path"])
        path += f"?{request.url.query}" if request.url.query else ""
        headers = dict(request.headers)
        try:
            response = await asyncio.get_running_loop().run_in_executor(
                api_threads, handle_request, request.method, path, headers, body
            )
        except QuantdeskError as exc:
            return error(exc)
        except LocalGatewayException:
            # API Gateway's "Missing Authentication Token" for an unknown route: the template's
            # gateway responses turn it into this 404 on AWS too
            return error(NotFound(f"no route {request.method} {request.url.path}"))
        content = response.get("body") or b""
        if response.get("isBase64Encoded"):
            content = base64.b64decode(content)
        out_headers = {
            k: v for k, v in response.get("headers", {}).items() if k.lower() != "content-length"
        }
        return Response(content, status_code=response["statusCode"], headers=out_headers)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
    return Starlette(
        routes=[Route("/{path:path}", api, methods=methods)],
        exception_handlers={HTTPException: http_error},
    )


def _web(web_root: Path) -> ASGIApp:
    if web_root.is_dir():
        return StaticFiles(directory=web_root, html=True)

    async def not_built(request: Request) -> Response:
        return error(for_status(503, "the web UI is not built yet: run `make frontend`"))

    return Starlette(routes=[Route("/{path:path}", not_built)])


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error(for_status(status, _REASONS.get(status, "request refused")))


def faults_route(arm: Callable[[dict[str, int]], dict[str, int]]) -> Route:
    """``POST /_local/faults`` ``{kind: count}``: arms the local cloud's injected faults."""

    async def arm_faults(request: Request) -> Response:
        try:
            wanted = {str(kind): int(count) for kind, count in (await request.json()).items()}
            return JSONResponse(arm(wanted))
        except (ValueError, TypeError, AttributeError) as exc:
            return error(for_status(400, str(exc)))

    return Route("/_local/faults", arm_faults, methods=["POST"])


_REASONS = {
    404: "no such page",
    405: "method not allowed on this path",
    500: "internal error",
}


class SecurityHeaders:
    """Adds the security headers to every response that has not set its own (the API's and
    the stream's are strict; pages get the UI's policy) and drops any server banner."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = API_HEADERS if path.startswith(API_PREFIXES) else PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                headers += [
                    (k.lower().encode(), v.encode())
                    for k, v in extra.items()
                    if k.lower().encode() not in present
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
