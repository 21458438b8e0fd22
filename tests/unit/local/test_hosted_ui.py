"""The local origin's stand-in for the user pool's hosted UI: authorization code + PKCE and
refresh over the real (moto) pool, with Cognito's checks on client, redirect URI and verifier."""

from __future__ import annotations

import asyncio
import gzip
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import moto.cognitoidp
import pytest
from starlette.applications import Starlette

from infrastructure.local.authorizer import CognitoVerifier, JwksCache
from infrastructure.local.hosted_ui import HostedUi, challenge_of, describe_client
from infrastructure.local.identity import LocalIdentity, ensure_identity

SITE = "http://127.0.0.1:8080"
CALLBACK = f"{SITE}/auth/callback/"


@pytest.fixture
def identity(moto_aws: None) -> LocalIdentity:
    return ensure_identity("http://127.0.0.1:4566", "us-east-1", SITE)


class AsgiClient:
    """Synchronous requests to an ASGI app (no redirects followed)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=SITE) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def client(identity: LocalIdentity) -> AsgiClient:
    hosted = HostedUi(identity, describe_client(identity), "researcher")
    return AsgiClient(Starlette(routes=hosted.routes()))


def verifier_for(identity: LocalIdentity) -> CognitoVerifier:
    keys = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    jwks = json.loads(gzip.decompress(keys.read_bytes()))
    return CognitoVerifier(identity.issuer, identity.client_id, JwksCache(lambda: jwks))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def authorize_params(identity: LocalIdentity, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": identity.client_id,
        "redirect_uri": CALLBACK,
        "state": "s-123",
        "scope": "openid email profile",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def sign_in_as(
    client: AsgiClient, identity: LocalIdentity, username: str, challenge: str
) -> dict[str, list[str]]:
    params = authorize_params(identity, challenge, username=username)
    response = client.post("/oauth2/authorize", data=params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return parse_qs(urlsplit(location).query)


def redeem(
    client: AsgiClient, identity: LocalIdentity, code: str, verifier: str, **extra: str
) -> tuple[int, dict[str, object]]:
    form = {
        "grant_type": "authorization_code",
        "client_id": identity.client_id,
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        **extra,
    }
    response = client.post("/oauth2/token", data=form)
    return response.status_code, response.json()


def test_challenge_is_rfc7636_s256() -> None:
    # the RFC 7636 appendix B example
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert challenge_of(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_auth_config_describes_the_local_pool(client: AsgiClient, identity: LocalIdentity) -> None:
    response = client.get("/auth-config.json")
    assert response.status_code == 200
    assert response.json() == {
        "mode": "local",
        "domain": SITE,
        "client_id": identity.client_id,
        "redirect_uri": CALLBACK,
        "logout_uri": f"{SITE}/",
        "scopes": ["openid", "email", "profile"],
        "region": "us-east-1",
        "default_user": "researcher",
    }


def test_sign_in_page_says_no_password_and_keeps_the_request(
    client: AsgiClient, identity: LocalIdentity
) -> None:
    _, challenge = pkce()
    response = client.get("/oauth2/authorize", params=authorize_params(identity, challenge))
    assert response.status_code == 200
    page = response.text
    assert "need no password" in page
    assert '<label for="username">Username</label>' in page
    assert f'name="code_challenge" value="{challenge}"' in page
    assert 'name="password"' not in page


def test_code_flow_with_pkce_issues_the_users_verified_tokens(
    client: AsgiClient, identity: LocalIdentity
) -> None:
    # Given a sign-in as a new user
    verifier, challenge = pkce()
    answer = sign_in_as(client, identity, "analyst", challenge)
    assert answer["state"] == ["s-123"]
    # When the code is redeemed with its verifier
    status, tokens = redeem(client, identity, answer["code"][0], verifier)
    # Then the ID token is the pool's, for that user, and passes the authorizer's checks
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer" and int(str(tokens["expires_in"])) > 0
    claims = verifier_for(identity).claims(f"Bearer {tokens['id_token']}")
    assert claims["cognito:username"] == "analyst"
    # And the code is single-use
    status, again = redeem(client, identity, answer["code"][0], verifier)
    assert (status, again["error"]) == (400, "invalid_grant")


def test_wrong_verifier_is_refused_and_burns_the_code(
    client: AsgiClient, identity: LocalIdentity
) -> None:
    verifier, challenge = pkce()
    code = sign_in_as(client, identity, "analyst", challenge)["code"][0]
    other, _ = pkce()
    status, body = redeem(client, identity, code, other)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "code_verifier" in str(body["error_description"])
    status, body = redeem(client, identity, code, verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"redirect_uri": f"{SITE}/elsewhere/"}, "invalid_grant"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"code_verifier": "short"}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_token_request_mismatches_are_oauth_errors(
    client: AsgiClient, identity: LocalIdentity, extra: dict[str, str], error: str
) -> None:
    verifier, challenge = pkce()
    code = sign_in_as(client, identity, "analyst", challenge)["code"][0]
    status, body = redeem(client, identity, code, verifier, **extra)
    assert status in (400, 401)
    assert body["error"] == error


def test_refresh_grant_returns_fresh_tokens_for_the_same_user(
    client: AsgiClient, identity: LocalIdentity
) -> None:
    verifier, challenge = pkce()
    code = sign_in_as(client, identity, "analyst", challenge)["code"][0]
    _, tokens = redeem(client, identity, code, verifier)
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": identity.client_id,
            "refresh_token": str(tokens["refresh_token"]),
        },
    )
    assert response.status_code == 200, response.text
    refreshed = response.json()
    assert "refresh_token" not in refreshed  # as Cognito: the refresh token stays the same
    claims = verifier_for(identity).claims(f"Bearer {refreshed['id_token']}")
    assert claims["cognito:username"] == "analyst"
    bad = client.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": identity.client_id,
            "refresh_token": "not-a-token",
        },
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "extra",
    [{"client_id": "someone-else"}, {"redirect_uri": "https://evil.example/callback"}],
)
def test_unknown_client_or_redirect_gets_an_error_page_never_a_redirect(
    client: AsgiClient, identity: LocalIdentity, extra: dict[str, str]
) -> None:
    _, challenge = pkce()
    for response in (
        client.get("/oauth2/authorize", params=authorize_params(identity, challenge, **extra)),
        client.post(
            "/oauth2/authorize",
            data=authorize_params(identity, challenge, username="analyst", **extra),
        ),
    ):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "evil.example" not in response.text


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid aws.cognito.signin.user.admin"}, "invalid_scope"),
    ],
)
def test_bad_authorize_requests_go_back_with_an_oauth_error(
    client: AsgiClient, identity: LocalIdentity, extra: dict[str, str], error: str
) -> None:
    _, challenge = pkce()
    params = authorize_params(identity, challenge, **extra)
    response = client.get("/oauth2/authorize", params=params)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == [error]


def test_invalid_username_is_explained_on_the_page_and_quoted_safely(
    client: AsgiClient, identity: LocalIdentity
) -> None:
    _, challenge = pkce()
    params = authorize_params(identity, challenge, username="<script>x</script>")
    response = client.post("/oauth2/authorize", data=params)
    assert response.status_code == 400
    assert "<script>x" not in response.text
    assert "&lt;script&gt;" in response.text
    assert 'aria-invalid="true"' in response.text and 'role="alert"' in response.text


def test_logout_returns_only_to_a_registered_sign_out_url(
    client: AsgiClient, identity: LocalIdentity
) -> None:
    ok = client.get("/logout", params={"client_id": identity.client_id, "logout_uri": f"{SITE}/"})
    assert (ok.status_code, ok.headers["location"]) == (302, f"{SITE}/")
    bad = client.get(
        "/logout", params={"client_id": identity.client_id, "logout_uri": "https://evil.example/"}
    )
    assert bad.status_code == 400 and "location" not in bad.headers
