"""The user pool domain's OAuth endpoints on the local origin (moto's Cognito has no hosted UI),
so the web UI and the CLI sign in locally through the same code path as on AWS:

* ``GET /auth-config.json`` -> the clients' sign-in configuration (``mode: "local"``);
* ``GET /oauth2/authorize`` -> a sign-in page (a username; local users need no password);
  ``POST`` it -> the user is signed in through the real local pool (``identity.sign_in``,
  created if needed) and the browser is sent to the redirect URI with a one-time code;
* ``POST /oauth2/token`` -> the ``authorization_code`` grant (PKCE ``S256`` required, the code
  single-use and bound to its client and redirect URI) and the ``refresh_token`` grant (moto's
  ``REFRESH_TOKEN_AUTH``); errors in OAuth's shape (RFC 6749 §5.2), as Cognito answers them,
  since the clients parse exactly that on AWS;
* ``GET /logout`` -> back to a registered sign-out URL (there is no hosted-UI session to end).

Like Cognito, a client id or redirect URI the app client does not list gets an error page,
never a redirect.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from infrastructure.local.identity import LocalIdentity, Tokens, sign_in
from quantdesk import aws
from quantdesk.auth_config import PATH, AuthConfig

CODE_TTL_S: Final = 300
USERNAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
#: RFC 7636 §4.1: 43-128 characters of the unreserved set
VERIFIER: Final = re.compile(r"[A-Za-z0-9._~-]{43,128}")
NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: the authorize request's parameters, carried through the sign-in form
AUTHORIZE_PARAMS: Final = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class AppClient:
    """What the app client allows (read from the local pool, as Cognito checks it)."""

    client_id: str
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: Tokens
    expires_at: float


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=NO_STORE)


def describe_client(identity: LocalIdentity) -> AppClient:
    client = aws.client("cognito-idp").describe_user_pool_client(
        UserPoolId=identity.pool_id, ClientId=identity.client_id
    )["UserPoolClient"]
    return AppClient(
        client_id=identity.client_id,
        callback_urls=tuple(client.get("CallbackURLs", [])),
        logout_urls=tuple(client.get("LogoutURLs", [])),
        scopes=tuple(client.get("AllowedOAuthScopes", [])),
    )


def challenge_of(verifier: str) -> str:
    """PKCE ``S256``: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class HostedUi:
    def __init__(
        self, identity: LocalIdentity, client: AppClient, default_user: str | None
    ) -> None:
        self.identity = identity
        self.client = client
        self.default_user = default_user
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def config(self) -> AuthConfig:
        redirect = self.client.callback_urls[0]
        return AuthConfig(
            mode="local",
            domain="{0.scheme}://{0.netloc}".format(urlsplit(redirect)),
            client_id=self.client.client_id,
            redirect_uri=redirect,
            logout_uri=self.client.logout_urls[0],
            scopes=self.client.scopes,
            region=self.identity.region,
            default_user=self.default_user,
        )

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self.auth_config),
            Route("/oauth2/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/oauth2/token", self.token, methods=["POST"]),
            Route("/logout", self.logout),
        ]

    async def auth_config(self, request: Request) -> Response:
        return Response(
            self.config().model_dump_json(),
            media_type="application/json",
            headers={"Cache-Control": "no-cache"},
        )

    # -- authorize ---------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            params = await _form(request)
        else:
            params = dict(request.query_params)
        if params.get("client_id") != self.client.client_id:
            return _error_page("Unknown client", "client_id is not an app client of this pool.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.client.callback_urls:
            return _error_page(
                "Unregistered redirect", "redirect_uri is not a callback URL of this app client."
            )
        problem = self._authorize_problem(params)
        if problem is not None:
            return _redirect(redirect_uri, {"error": problem[0], "error_description": problem[1]})
        if request.method == "GET":
            return _sign_in_page(params)
        username = params.get("username", "").strip()
        if not USERNAME.fullmatch(username):
            return _sign_in_page(
                params,
                username=username,
                error="Use 1 to 64 letters, digits or . _ @ + - (starting with a letter or digit).",
            )
        tokens = await asyncio.to_thread(sign_in, self.identity, username)
        code = secrets.token_urlsafe(32)
        grant = Grant(
            client_id=self.client.client_id,
            redirect_uri=redirect_uri,
            challenge=params["code_challenge"],
            tokens=tokens,
            expires_at=time.monotonic() + CODE_TTL_S,
        )
        with self._lock:
            self._drop_expired()
            self._grants[code] = grant
        answer = {"code": code}
        if params.get("state"):
            answer["state"] = params["state"]
        return _redirect(redirect_uri, answer)

    def _authorize_problem(self, params: dict[str, str]) -> tuple[str, str] | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type", "response_type must be code"
        if not params.get("code_challenge"):
            return "invalid_request", "PKCE is required: code_challenge is missing"
        if params.get("code_challenge_method") != "S256":
            return "invalid_request", "code_challenge_method must be S256"
        scopes = params.get("scope", "openid").split()
        if not set(scopes) <= set(self.client.scopes):
            return "invalid_scope", "scope asks for more than this app client allows"
        return None

    # -- token -------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        try:
            if form.get("client_id") != self.client.client_id:
                raise OAuthError("invalid_client", "unknown client_id", status=401)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                tokens = self._redeem(form)
                body: dict[str, Any] = {
                    "id_token": tokens.id_token,
                    "access_token": tokens.access_token,
                    "refresh_token": tokens.refresh_token,
                    "expires_in": tokens.expires_in,
                }
            elif grant_type == "refresh_token":
                body = await asyncio.to_thread(self._refresh, form.get("refresh_token", ""))
            else:
                raise OAuthError("unsupported_grant_type", "grant_type is not supported")
        except OAuthError as exc:
            return exc.response()
        body["token_type"] = "Bearer"
        return JSONResponse(body, headers=NO_STORE)

    def _redeem(self, form: dict[str, str]) -> Tokens:
        verifier = form.get("code_verifier", "")
        if not VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_request", "code_verifier is missing or malformed")
        with self._lock:
            self._drop_expired()
            grant = self._grants.pop(form.get("code", ""), None)  # single use, even on failure
        if grant is None:
            raise OAuthError("invalid_grant", "the code is unknown, used or expired")
        if grant.redirect_uri != form.get("redirect_uri"):
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorize request")
        if not secrets.compare_digest(challenge_of(verifier), grant.challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        return grant.tokens

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is missing")
        cognito = aws.client("cognito-idp")
        try:
            result = cognito.initiate_auth(
                ClientId=self.client.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )["AuthenticationResult"]
        except cognito.exceptions.NotAuthorizedException as exc:
            raise OAuthError("invalid_grant", "the refresh token is invalid or revoked") from exc
        return {
            "id_token": result["IdToken"],
            "access_token": result["AccessToken"],
            "expires_in": int(result["ExpiresIn"]),
        }

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for code in [c for c, g in self._grants.items() if g.expires_at < now]:
            del self._grants[code]

    # -- logout ------------------------------------------------------------------------------

    async def logout(self, request: Request) -> Response:
        if request.query_params.get("client_id") != self.client.client_id:
            return _error_page("Unknown client", "client_id is not an app client of this pool.")
        logout_uri = request.query_params.get("logout_uri", "")
        if logout_uri not in self.client.logout_urls:
            return _error_page(
                "Unregistered sign-out URL", "logout_uri is not a sign-out URL of this app client."
            )
        return RedirectResponse(logout_uri, status_code=302)


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (small: the origin's body limit applies)."""
    from infrastructure.local.origin import read_body  # noqa: PLC0415 (the origin imports this module)

    body = await read_body(request)
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(uri + separator + urlencode(params), status_code=302)


_PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} · quantdesk (local)</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center;
  min-height: 100vh; background: Canvas; color: CanvasText; }}
main {{ width: min(24rem, 92vw); padding: 2rem; border: 1px solid GrayText; border-radius: 8px; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .5rem; }}
label {{ display: block; font-weight: 600; margin: 1rem 0 .25rem; }}
input {{ font: inherit; width: 100%; box-sizing: border-box; padding: .5rem; }}
button {{ font: inherit; margin-top: 1rem; padding: .5rem 1.25rem; cursor: pointer; }}
input:focus-visible, button:focus-visible {{ outline: 3px solid Highlight; outline-offset: 2px; }}
.error {{ color: #b00020; font-weight: 600; }}
@media (prefers-color-scheme: dark) {{ .error {{ color: #ff8a80; }} }}
</style>
</head>
<body>
<main>
{content}
</main>
</body>
</html>
"""


def _sign_in_page(params: dict[str, str], *, username: str = "", error: str = "") -> Response:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in AUTHORIZE_PARAMS
        if name in params
    )
    described = "username-help username-error" if error else "username-help"
    invalid = ' aria-invalid="true"' if error else ""
    error_html = f'<p id="username-error" class="error" role="alert">{html.escape(error)}</p>'
    content = f"""<h1>Sign in to quantdesk</h1>
<p>Local stack: local users need no password. A new username creates that user.</p>
<form method="post" action="/oauth2/authorize">
{hidden}
<label for="username">Username</label>
<input id="username" name="username" value="{html.escape(username)}" required autofocus
  autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64"
  aria-describedby="{described}"{invalid}>
<p id="username-help">For example <code>researcher</code> or <code>analyst</code>.</p>
{error_html if error else ""}
<button type="submit">Sign in</button>
</form>"""
    status = 400 if error else 200
    return HTMLResponse(
        _PAGE.format(title="Sign in", content=content), status_code=status, headers=NO_STORE
    )


def _error_page(title: str, message: str) -> Response:
    content = f'<h1>{html.escape(title)}</h1>\n<p role="alert">{html.escape(message)}</p>'
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), content=content), status_code=400, headers=NO_STORE
    )
