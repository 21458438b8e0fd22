"""How the CLI gets a bearer token for a site; the site's ``/auth-config.json`` says how to.

* AWS (``mode: cognito``): Cognito's ``InitiateAuth`` with ``USER_PASSWORD_AUTH`` (username and
  password from the terminal; a first sign-in sets a new password), ``REFRESH_TOKEN_AUTH`` later.
  The app client is public, so these calls are unsigned: no AWS credentials are involved.
* The local stack (``mode: local``): the authorization-code + PKCE flow of the web UI, through
  the local origin's sign-in endpoints (a username, no password), and its refresh grant.

Commands import this module when they run, not to build the parser (httpx and boto3 are slow
to import). Every command that calls the API asks ``bearer_token`` for its ``Authorization``
header: the ``--user`` given (local stack only), else the cached login for the site (refreshed
when due), else none, which the local stack answers as its default researcher.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
from botocore import UNSIGNED
from botocore.config import Config
from pydantic import ValidationError

from quantdesk.auth_config import PATH, AuthConfig
from quantdesk.cli.credentials import Session, TokenCache
from quantdesk.cli.target import CliError, is_loopback

#: the local sign-in page's error message
_ALERT: Final = re.compile(r'role="alert">(.*?)<', re.S)


def fetch_config(client: httpx.Client, url: str) -> AuthConfig:
    try:
        response = client.get(url.rstrip("/") + PATH)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach {url} ({exc}); is `make up` running?") from exc
    if response.status_code != 200:
        raise CliError(f"{url} has no sign-in configuration ({PATH}: HTTP {response.status_code})")
    try:
        return AuthConfig.model_validate_json(response.content)
    except ValidationError as exc:
        raise CliError(f"{url}{PATH} is not a sign-in configuration: {exc}") from exc


def require_local(url: str, config: AuthConfig | None = None) -> None:
    """Refuse anything but the local stack (a loopback URL whose configuration says local)."""
    if not is_loopback(url) or (config is not None and config.mode != "local"):
        raise CliError(
            f"{url} is not the local stack: this only works against it "
            "(on AWS, sign in with `quantdesk login`)"
        )


# -- the local stack: code + PKCE through the origin ---------------------------------------


def local_sign_in(client: httpx.Client, config: AuthConfig, username: str) -> Session:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    form = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "state": state,
        "scope": " ".join(config.scopes),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "username": username,
    }
    answer = _post(client, f"{config.domain}/oauth2/authorize", form)
    if answer.status_code != 302:
        found = _ALERT.search(answer.text)
        reason = html.unescape(found.group(1)).strip() if found else f"HTTP {answer.status_code}"
        raise CliError(f"cannot sign in as {username!r}: {reason}")
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    if "error" in query:
        raise CliError(f"sign-in refused: {query.get('error_description', query['error'])[0]}")
    if query.get("state") != [state]:
        raise CliError("sign-in refused: the answer's state does not match the request")
    tokens = _token_request(
        client,
        config,
        {
            "grant_type": "authorization_code",
            "client_id": config.client_id,
            "code": query["code"][0],
            "redirect_uri": config.redirect_uri,
            "code_verifier": verifier,
        },
    )
    return _session(username, tokens["id_token"], tokens["refresh_token"], tokens, "local")


def _token_request(
    client: httpx.Client, config: AuthConfig, form: dict[str, str]
) -> dict[str, Any]:
    response = _post(client, f"{config.domain}/oauth2/token", form)
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "id_token" not in body:
        reason = body.get("error_description") or body.get("error") or response.status_code
        raise CliError(f"the sign-in server refused: {reason}")
    return body


def _post(client: httpx.Client, url: str, form: dict[str, str]) -> httpx.Response:
    try:
        return client.post(url, data=form, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the sign-in server {url} ({exc})") from exc


# -- AWS: Cognito InitiateAuth ---------------------------------------------------------------


def _cognito(config: AuthConfig) -> Any:
    return boto3.client(
        "cognito-idp", region_name=config.region, config=Config(signature_version=UNSIGNED)
    )


def cognito_sign_in(
    config: AuthConfig,
    username: str,
    password: str,
    new_password: Callable[[], str],
) -> Session:
    """``USER_PASSWORD_AUTH``; a user created by an administrator sets a password first."""
    cognito = _cognito(config)
    try:
        answer = cognito.initiate_auth(
            ClientId=config.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            answer = cognito.respond_to_auth_challenge(
                ClientId=config.client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=answer["Session"],
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password()},
            )
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        raise CliError("incorrect username or password") from None
    except cognito.exceptions.InvalidPasswordException as exc:
        raise CliError(f"new password refused: {exc.response['Error']['Message']}") from None
    if "AuthenticationResult" not in answer:
        raise CliError(f"sign-in needs {answer.get('ChallengeName')}, which the CLI cannot do")
    result = answer["AuthenticationResult"]
    return _session(
        username,
        result["IdToken"],
        result["RefreshToken"],
        {"expires_in": result["ExpiresIn"]},
        "cognito",
    )


# -- refresh and the header ------------------------------------------------------------------


def refresh(client: httpx.Client, url: str, session: Session) -> Session:
    config = fetch_config(client, url)
    if session.mode == "local":
        tokens = _token_request(
            client,
            config,
            {
                "grant_type": "refresh_token",
                "client_id": config.client_id,
                "refresh_token": session.refresh_token,
            },
        )
        id_token = tokens["id_token"]
        return _session(session.username, id_token, session.refresh_token, tokens, "local")
    cognito = _cognito(config)
    try:
        result = cognito.initiate_auth(
            ClientId=config.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": session.refresh_token},
        )["AuthenticationResult"]
    except cognito.exceptions.NotAuthorizedException:
        raise CliError(f"your session on {url} ended: run `quantdesk login --url {url}`") from None
    return _session(
        session.username,
        result["IdToken"],
        session.refresh_token,
        {"expires_in": result["ExpiresIn"]},
        "cognito",
    )


def bearer_token(
    client: httpx.Client, url: str, *, user: str | None = None, cache: TokenCache | None = None
) -> str | None:
    """The ID token to send to ``url``: ``user``'s (local stack only), the cached login's, or
    None (the local stack's default researcher)."""
    if user is not None:
        require_local(url)
        config = fetch_config(client, url)
        require_local(url, config)
        return local_sign_in(client, config, user).id_token
    cache = cache or TokenCache()
    session = cache.get(url)
    if session is None:
        return None
    if session.expired():
        try:
            session = refresh(client, url, session)
        except CliError:
            cache.remove(url)
            raise
        cache.put(url, session)
    return session.id_token


def _session(
    username: str, id_token: str, refresh_token: str, answer: dict[str, Any], mode: str
) -> Session:
    return Session(
        username=username,
        id_token=id_token,
        refresh_token=refresh_token,
        expires_at=time.time() + int(answer.get("expires_in") or 3600),
        mode=mode,
    )
