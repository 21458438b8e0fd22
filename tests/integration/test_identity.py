"""Identity against the real local stack: two users signed in through the stack's Cognito pool,
isolation on every run route and the stream, the 401 matrix of the authorizer, per-user rate
limits, one error shape, and the four inputs that used to be 500s."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import moto
import pytest
from cryptography.hazmat.primitives import serialization

from infrastructure import resources
from infrastructure.local.cloud import REGION
from infrastructure.local.identity import LocalIdentity, find_identity, sign_in
from infrastructure.local.lambda_runtime import load_handler
from quantdesk import aws
from tests.conftest import Stack
from tests.stack import running_stack, stack_clients

pytestmark = pytest.mark.integration

START = {"scenario_id": "trend_strength", "params": {}, "fresh": True}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def identity_of(stack: Stack) -> LocalIdentity:
    identity = find_identity(f"http://{stack.aws_endpoint}", REGION)
    assert identity is not None, "the local cloud created no user pool"
    return identity


@pytest.fixture(scope="module")
def identity(stack: Stack) -> Iterator[LocalIdentity]:
    with stack_clients(stack):
        yield identity_of(stack)


@pytest.fixture(scope="module")
def users(identity: LocalIdentity) -> dict[str, str]:
    """Two researchers signed in through the pool: name -> ID token."""
    suffix = uuid.uuid4().hex[:8]
    return {name: sign_in(identity, f"{name}-{suffix}").id_token for name in ("alice", "bob")}


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def alices_run(client: httpx.Client, users: dict[str, str]) -> dict[str, Any]:
    response = client.post("/analysis/run", json=START, headers=bearer(users["alice"]))
    assert response.status_code == 202, response.text
    return dict(response.json())


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "field"}
    assert body["code"] == code
    return body


def run_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the API that addresses one run: isolation must hold on each,
    including any route added later."""
    app = load_handler(resources.API)
    return sorted(
        (method, path)
        for path, methods in app.routes.items()
        if "{run_id}" in path
        for method in methods
    )


def test_every_run_route_hides_another_users_run(
    client: httpx.Client, users: dict[str, str], alices_run: dict[str, Any]
) -> None:
    run_id = alices_run["run_id"]
    routes = run_routes()
    assert ("GET", "/analysis/runs/{run_id}") in routes
    assert ("POST", "/analysis/runs/{run_id}/cancel") in routes
    unknown = "0" * 26
    for method, path in routes:
        # Bob, and the default researcher (no header), get exactly what a missing run gets
        for headers in (bearer(users["bob"]), {}):
            theirs = client.request(method, path.format(run_id=run_id), headers=headers)
            missing = client.request(method, path.format(run_id=unknown), headers=headers)
            body = assert_error(theirs, 404, "not_found")
            assert body == {**missing.json(), "message": body["message"]}
            assert body["message"] == missing.json()["message"].replace(unknown, run_id)
    # Bob's cancel did nothing: Alice still sees her run, not cancelled by him
    mine = client.get(alices_run["status_url"], headers=bearer(users["alice"]))
    assert mine.status_code == 200
    assert mine.json()["error"] is None or mine.json()["error"]["type"] != "Cancelled"


def test_history_lists_only_the_callers_runs(
    client: httpx.Client, users: dict[str, str], alices_run: dict[str, Any]
) -> None:
    def listed(headers: dict[str, str]) -> set[str]:
        response = client.get("/analysis/runs", params={"limit": 100}, headers=headers)
        assert response.status_code == 200, response.text
        return {run["run_id"] for run in response.json()["runs"]}

    assert alices_run["run_id"] in listed(bearer(users["alice"]))
    assert alices_run["run_id"] not in listed(bearer(users["bob"]))
    assert alices_run["run_id"] not in listed({})


def test_the_stream_is_bound_to_the_run_and_its_owner(
    client: httpx.Client, users: dict[str, str], alices_run: dict[str, Any]
) -> None:
    bobs = client.post("/analysis/run", json=START, headers=bearer(users["bob"])).json()
    bobs_token = bobs["stream_url"].split("token=")[1]
    # Bob's valid token does not open Alice's run
    response = client.get(f"/runs/{alices_run['run_id']}/stream?token={bobs_token}")
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith('Bearer realm="quantdesk"')
    assert "data:" not in response.text
    # Alice's own URL streams her run to its end; the run view hands out a fresh one
    view = client.get(alices_run["status_url"], headers=bearer(users["alice"])).json()
    assert view["stream_url"].startswith(f"/runs/{alices_run['run_id']}/stream?token=")
    with client.stream("GET", view["stream_url"]) as stream:
        assert stream.status_code in (200, 204)


# -- the 401 matrix ----------------------------------------------------------------------------


def _moto_signing_key() -> Any:
    """The private key moto's Cognito signs every pool's tokens with (so a token signed with it
    has a *valid* signature: only the claims can make it fail)."""
    path = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes())))


def _b64_bytes(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64(data: dict[str, Any]) -> str:
    return _b64_bytes(json.dumps(data).encode())


def forged_tokens(identity: LocalIdentity, good: str) -> dict[str, str]:
    claims = jwt.decode(good, options={"verify_signature": False})
    key = _moto_signing_key()
    header = jwt.get_unverified_header(good)
    now = int(time.time())

    def signed(**changes: Any) -> str:
        return jwt.encode({**claims, **changes}, key.key, algorithm="RS256", headers=header)

    head, body, signature = good.split(".")
    # the classic confusion: HS256 keyed with the pool's *public* key
    public_pem = key.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_head = _b64({"alg": "HS256", "kid": header["kid"]})
    hs_sig = hmac.new(public_pem, f"{hs_head}.{body}".encode(), hashlib.sha256).digest()
    return {
        "garbage": "not-a-jwt",
        "wrong signature": f"{head}.{body}.{signature[:-8]}AAAAAAAA",
        "non-ASCII signature": f"{head}.{body}.{signature[:-2]}é",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{body}.",
        "HS256 with the public key": f"{hs_head}.{body}.{_b64_bytes(hs_sig)}",
        "expired": signed(iat=now - 7200, exp=now - 3600),
        "other issuer": signed(iss=resources.issuer(REGION, "us-east-1_Other")),
        "other client": signed(aud="some-other-client"),
        "access token": signed(token_use="access"),
        "unknown key id": jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "nope"}),
    }


def test_every_bad_credential_is_a_401_with_a_bearer_challenge(
    client: httpx.Client, identity: LocalIdentity, users: dict[str, str]
) -> None:
    tokens = forged_tokens(identity, users["alice"])
    cases = {name: f"Bearer {token}" for name, token in tokens.items()}
    cases["not bearer"] = "Basic YWxpY2U6cHc="
    cases["bare scheme"] = "Bearer"
    cases["another pool's real token"] = f"Bearer {_other_pool_token(identity)}"
    for name, value in cases.items():
        headers = {"Authorization": value.encode()}  # UTF-8 on the wire, as sent
        response = client.get("/analysis/runs", headers=headers)
        assert response.status_code == 401, (name, response.text)
        assert_error(response, 401, "unauthorized")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="quantdesk", error="invalid_token"'), name
    # the genuine token passes
    assert client.get("/analysis/runs", headers=bearer(users["alice"])).status_code == 200


def _other_pool_token(identity: LocalIdentity) -> str:
    """A real token from a second pool on the same endpoint (same moto signing key)."""
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    other = LocalIdentity(identity.endpoint, identity.region, pool, client_id)
    return sign_in(other, "mallory").id_token


# -- one error shape, and the inputs that used to be 500s --------------------------------------


def test_framework_answers_have_the_api_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/analysis/no/such/route"), 404, "not_found")
    assert_error(client.put("/analysis/runs"), 405, "method_not_allowed")
    response = client.post("/analysis/run", content=b"x=1", headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")
    big = b'{"scenario_id": "' + b"a" * 200_000 + b'"}'
    assert_error(client.post("/analysis/run", content=big), 413, "payload_too_large")
    assert_error(client.get("/runs/nope/stream"), 404, "not_found")
    assert_error(client.post("/runs/" + "0" * 26 + "/stream"), 405, "method_not_allowed")
    # a path delimiter or control character inside a segment stays in the path parameter (not
    # the catalogue list)
    for escaped in ("%3B", "%3F", "%23", "a%3Bb", "%09", "%0A", "%0D", "%00", "a%09"):
        assert_error(client.get(f"/analysis/scenarios/{escaped}"), 404, "not_found")
    response = client.get("/analysis/scenarios/%3Cimg%20src%3Dx%3E")
    body = assert_error(response, 404, "not_found")
    assert "<img" not in response.text.replace("\\u003c", "") or body["message"].startswith(
        "unknown scenario '"
    )


def test_security_headers_and_no_server_banner(client: httpx.Client) -> None:
    for path in ("/analysis/scenarios", "/analysis/nope", "/runs/nope/stream", "/healthz"):
        response = client.get(path)
        assert "server" not in response.headers, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["referrer-policy"] == "no-referrer", path


def test_cors_allows_only_the_configured_origin(client: httpx.Client, stack: Stack) -> None:
    response = client.get("/analysis/scenarios", headers={"Origin": "https://evil.example"})
    assert response.headers.get("access-control-allow-origin") == stack.base_url


def test_the_four_known_500s_are_4xx(
    client: httpx.Client, users: dict[str, str], alices_run: dict[str, Any]
) -> None:
    # a lone surrogate in a free-text param
    surrogate = b'{"scenario_id": "trend_strength", "params": {"sector": "\\ud800"}}'
    response = client.post("/analysis/run", content=surrogate, headers=bearer(users["alice"]))
    assert assert_error(response, 400, "invalid_request")["field"] == "params.sector"
    # provenance.engine nested 500 levels deep
    deep = '{"a": ' * 500 + "1" + "}" * 500
    raw = '{"scenario_id": "trend_strength", "provenance": {"engine": ' + deep + "}}"
    response = client.post("/analysis/run", content=raw.encode(), headers=bearer(users["alice"]))
    assert assert_error(response, 400, "invalid_request")["field"].startswith("provenance.engine")
    # a Last-Event-ID of '²' (a unicode digit)
    url = alices_run["stream_url"]
    for response in (
        client.get(url, headers={"Last-Event-ID": "²".encode("latin-1")}),
        client.get(url + "&last_event_id=%C2%B2"),
    ):
        assert assert_error(response, 400, "invalid_request")["field"] == "last_event_id"
    # non-ASCII characters in a stream token's signature
    response = client.get(url[:-2] + "%C3%A9")
    assert_error(response, 401, "unauthorized")


# -- per-user limits and strict sign-in, on a stack of their own -------------------------------


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack that requires sign-in everywhere, with low limits: 3 starts per minute."""
    env = {"QD_MAX_STARTS_PER_MINUTE": "3", "QD_MAX_RUNS_IN_FLIGHT": "50"}
    log = tmp_path_factory.mktemp("strict") / "stack.log"
    with running_stack(log, extra_env=env, args=("--require-sign-in", "--no-sample")) as stack:
        yield stack


def test_no_token_is_a_401_where_sign_in_is_required(strict_stack: Stack) -> None:
    with httpx.Client(base_url=strict_stack.base_url, timeout=30) as c:
        for method, path in (("GET", "/analysis/runs"), ("POST", "/analysis/run")):
            response = c.request(method, path, json=START)
            assert_error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == 'Bearer realm="quantdesk"'


def test_the_rate_limit_stops_one_user_and_not_the_other(strict_stack: Stack) -> None:
    with stack_clients(strict_stack):
        identity = identity_of(strict_stack)
        alice = sign_in(identity, "alice").id_token
        bob = sign_in(identity, "bob").id_token
    # stay clear of a minute boundary so all starts fall in one window
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    with httpx.Client(base_url=strict_stack.base_url, timeout=30) as c:
        statuses = [
            c.post("/analysis/run", json=START, headers=bearer(alice)).status_code for _ in range(3)
        ]
        assert statuses == [202, 202, 202]
        refused = c.post("/analysis/run", json=START, headers=bearer(alice))
        assert_error(refused, 429, "rate_limited")
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert refused.headers["ratelimit"] == f'"starts";r=0;t={retry_after}'
        assert '"starts";q=3;w=60' in refused.headers["ratelimit-policy"]
        # Bob is not affected
        assert c.post("/analysis/run", json=START, headers=bearer(bob)).status_code == 202
