"""The local origin's stand-in for API Gateway's Cognito user-pool authorizer.

A bearer ID token is verified exactly as the authorizer does: RS256 signature against the pool's
JWKS (fetched from the endpoint, cached), issuer, audience = the app client id, expiry and
``token_use == "id"``. Anything else (no ``Bearer``, malformed, ``alg: none`` or HS256, another
pool, expired) is a 401 with a ``WWW-Authenticate: Bearer`` challenge. The verified claims go
into the proxy event's ``requestContext.authorizer.claims``, as API Gateway puts them.

Only on the local stack, a request with no ``Authorization`` header at all acts as the default
researcher (``anonymous_claims``), so the first screen needs no sign-in step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final

import jwt

from quantdesk.errors import Unauthorized
from quantdesk.web import bearer_challenge

ALGORITHMS: Final = ["RS256"]
JWKS_CACHE_S: Final = 300
#: tokens naming an unknown key refetch the JWKS at most this often (no fetch storm)
UNKNOWN_KID_REFETCH_S: Final = 10
LEEWAY_S: Final = 0


class JwksCache:
    """The pool's signing keys by ``kid``, fetched on first use and again after
    ``JWKS_CACHE_S`` or when a token names an unknown key (rotation)."""

    def __init__(
        self, fetch: Callable[[], dict[str, Any]], refetch_s: float = UNKNOWN_KID_REFETCH_S
    ) -> None:
        self._fetch = fetch
        self._refetch_s = refetch_s
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        with self._lock:
            age = None if self._fetched_at is None else time.monotonic() - self._fetched_at
            unknown = kid not in self._keys
            if age is None or age > JWKS_CACHE_S or (unknown and age > self._refetch_s):
                jwks = jwt.PyJWKSet.from_dict(self._fetch())
                self._keys = {k.key_id: k.key for k in jwks.keys if k.key_id}
                self._fetched_at = time.monotonic()
            return self._keys.get(kid)


class CognitoVerifier:
    def __init__(self, issuer: str, client_id: str, jwks: JwksCache) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks

    def claims(self, authorization: str) -> dict[str, Any]:
        """The verified ID token's claims; Unauthorized (with the challenge) otherwise."""
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _rejected("expected 'Authorization: Bearer <ID token>'")
        if not token.isascii():
            raise _rejected("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _rejected("malformed token") from exc
        if header.get("alg") not in ALGORITHMS:
            raise _rejected("unsupported token algorithm")
        key = self.jwks.key(str(header.get("kid") or ""))
        if key is None:
            raise _rejected("token not signed by this user pool")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.client_id,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _rejected("token expired") from exc
        except jwt.PyJWTError as exc:
            raise _rejected("invalid token") from exc
        if claims.get("token_use") != "id":
            raise _rejected("an ID token is required")
        return claims


def _rejected(reason: str) -> Unauthorized:
    return Unauthorized(reason, headers={"WWW-Authenticate": bearer_challenge(reason)})


def missing_token() -> Unauthorized:
    return Unauthorized(
        "sign in: an 'Authorization: Bearer <ID token>' header is required",
        headers={"WWW-Authenticate": bearer_challenge()},
    )
