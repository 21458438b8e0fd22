"""The origin's Cognito authorizer against moto's in-process Cognito: tokens the pool issues
pass, with the claims API Gateway would hand the API; everything else is a 401 with a Bearer
challenge. (The same matrix runs against the live stack in tests/integration/test_identity.py.)"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import jwt
import moto
import pytest

from infrastructure.local.authorizer import CognitoVerifier, JwksCache
from infrastructure.local.cloud import REGION
from infrastructure.local.identity import LocalIdentity, ensure_identity, find_identity, sign_in
from quantdesk.errors import Unauthorized

RESOURCES = Path(moto.__file__).parent / "cognitoidp" / "resources"


def moto_jwks(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        gzip.decompress((RESOURCES / f"{name}.json.gz").read_bytes())
    )
    return loaded


@pytest.fixture
def identity(moto_aws: None) -> LocalIdentity:
    return ensure_identity("http://endpoint", REGION, "http://127.0.0.1:8080")


@pytest.fixture
def verifier(identity: LocalIdentity) -> CognitoVerifier:
    return CognitoVerifier(
        identity.issuer, identity.client_id, JwksCache(lambda: moto_jwks("jwks-public"))
    )


def test_the_local_pool_is_created_once_with_the_default_researcher(
    identity: LocalIdentity,
) -> None:
    again = ensure_identity("http://endpoint", REGION, "http://127.0.0.1:8080")
    assert again == identity == find_identity("http://endpoint", REGION)
    assert identity.jwks_url == f"http://endpoint/{identity.pool_id}/.well-known/jwks.json"


def test_a_pool_token_yields_the_claims_api_gateway_would_pass(
    identity: LocalIdentity, verifier: CognitoVerifier
) -> None:
    tokens = sign_in(identity, "researcher")
    claims = verifier.claims(f"Bearer {tokens.id_token}")
    assert claims["cognito:username"] == "researcher"
    assert claims["token_use"] == "id" and claims["aud"] == identity.client_id
    # the same user signs in again: same sub (the owner of their runs)
    assert (
        verifier.claims(f"Bearer {sign_in(identity, 'researcher').id_token}")["sub"]
        == claims["sub"]
    )
    assert sign_in(identity, "someone-else").id_token != tokens.id_token


def test_bad_tokens_are_refused_with_a_challenge(
    identity: LocalIdentity, verifier: CognitoVerifier
) -> None:
    good = sign_in(identity, "alice")
    claims = jwt.decode(good.id_token, options={"verify_signature": False})
    private = jwt.PyJWK(moto_jwks("jwks-private"))
    now = int(time.time())

    def signed(**changes: Any) -> str:
        return jwt.encode({**claims, **changes}, private.key, "RS256", headers={"kid": "dummy"})

    head, body, sig = good.id_token.split(".")
    bad = {
        "access token": good.access_token,
        "expired": signed(exp=now - 1),
        "other pool": signed(iss=identity.issuer + "x"),
        "other client": signed(aud="other"),
        "no sub": jwt.encode(
            {k: v for k, v in claims.items() if k != "sub"},
            private.key,
            "RS256",
            headers={"kid": "dummy"},
        ),
        "wrong signature": f"{head}.{body}.{sig[::-1]}",
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "HS256": jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": "dummy"}),
        "non-ASCII": f"{head}.{body}.{sig}é",
        "unknown kid": jwt.encode(claims, private.key, "RS256", headers={"kid": "other"}),
    }
    for name, token in bad.items():
        with pytest.raises(Unauthorized) as caught:
            verifier.claims(f"Bearer {token}")
        assert caught.value.headers["WWW-Authenticate"].startswith(
            'Bearer realm="quantdesk", error="invalid_token"'
        ), name
    for header in ("", "Basic abc", "Bearer", good.id_token):
        with pytest.raises(Unauthorized):
            verifier.claims(header)


def test_the_jwks_is_fetched_once_and_again_for_an_unknown_key() -> None:
    fetches: list[int] = []

    def fetch() -> dict[str, Any]:
        fetches.append(1)
        return moto_jwks("jwks-public")

    cache = JwksCache(fetch)
    assert cache.key("dummy") is not None
    assert cache.key("dummy") is not None
    assert len(fetches) == 1
    # forged key ids do not make every request refetch
    for _ in range(5):
        assert cache.key("forged") is None
    assert len(fetches) == 1
    # a rotated key is picked up once the refetch interval has passed
    rotating = JwksCache(fetch, refetch_s=0)
    assert rotating.key("dummy") is not None
    assert rotating.key("rotated") is None
    assert len(fetches) == 3
