"""Sign-in on the local stack: the Cognito user pool and app client of
``infrastructure.resources.USER_POOL`` in the local endpoint (moto issues RS256-signed JWTs and
serves the pool's JWKS) and the default researcher. The template builds its ``UserPool`` and
``UserPoolClient`` from the same definition; the endpoint's CloudFormation cannot create them,
so the local stack's references to them answer with this pool (``infrastructure.local.stack``).

``ensure_identity`` is what the local cloud runs at start (idempotent: an existing pool, client
and user are reused). ``sign_in`` creates a user if needed and returns its tokens, exactly as
the CLI's ``quantdesk login`` does against AWS (``USER_PASSWORD_AUTH``); tests and
``quantdesk dev-token`` use it. Nothing here is used on AWS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from infrastructure import resources
from quantdesk import aws


@dataclass(frozen=True)
class LocalIdentity:
    """Where the local pool is: what the origin (acting as the authorizer) needs."""

    endpoint: str
    region: str
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return resources.issuer(self.region, self.pool_id)

    @property
    def pool_name(self) -> str:
        return resources.USER_POOL.name

    @property
    def client_name(self) -> str:
        return resources.USER_POOL.client_name

    def pool_arn(self, account: str) -> str:
        return f"arn:aws:cognito-idp:{self.region}:{account}:userpool/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        """moto serves the pool's keys on the endpoint, under the pool id."""
        return f"{self.endpoint}/{self.pool_id}/.well-known/jwks.json"


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int


def _cognito() -> Any:
    return aws.client("cognito-idp")


def find_identity(endpoint: str, region: str) -> LocalIdentity | None:
    """The local pool and client of ``USER_POOL``, if the local cloud has created them."""
    cognito = _cognito()
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == resources.USER_POOL.name), None)
    if pool_id is None:
        return None
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = next(
        (
            c["ClientId"]
            for c in clients["UserPoolClients"]
            if c["ClientName"] == resources.USER_POOL.client_name
        ),
        None,
    )
    return LocalIdentity(endpoint, region, pool_id, client_id) if client_id else None


def ensure_identity(endpoint: str, region: str, site_url: str) -> LocalIdentity:
    """Create the pool, its app client and the default researcher (once)."""
    identity = find_identity(endpoint, region)
    if identity is None:
        cognito = _cognito()
        pool_id = cognito.create_user_pool(**resources.USER_POOL.create_pool_kwargs())["UserPool"][
            "Id"
        ]
        client = cognito.create_user_pool_client(
            **resources.USER_POOL.create_client_kwargs(pool_id, site_url)
        )
        identity = LocalIdentity(endpoint, region, pool_id, client["UserPoolClient"]["ClientId"])
    ensure_user(identity, resources.USER_POOL.default_user)
    return identity


def ensure_user(identity: LocalIdentity, username: str) -> None:
    cognito = _cognito()
    try:
        cognito.admin_get_user(UserPoolId=identity.pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(
            UserPoolId=identity.pool_id,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": f"{username}@localhost"},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )


def sign_in(identity: LocalIdentity, username: str) -> Tokens:
    """Tokens for ``username`` from the local pool, creating the user if needed. Each call sets
    a fresh random password (local users have no password anyone needs to know)."""
    ensure_user(identity, username)
    password = _password()
    cognito = _cognito()
    cognito.admin_set_user_password(
        UserPoolId=identity.pool_id, Username=username, Password=password, Permanent=True
    )
    result = cognito.initiate_auth(
        ClientId=identity.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return Tokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result["RefreshToken"],
        expires_in=int(result["ExpiresIn"]),
    )


def _password() -> str:
    # meets any pool policy: upper, lower, digit, symbol, length
    return "Qd1!" + secrets.token_urlsafe(24)
