"""The sign-in configuration clients read at run time: ``/auth-config.json`` next to the web UI.

The web UI and the CLI fetch it from the site they talk to, so one build works against any
stack. ``domain`` is the base URL of the OAuth endpoints (``/oauth2/authorize``,
``/oauth2/token``, ``/logout``): the user pool's hosted-UI domain on AWS, the local origin
itself on the local stack (which emulates those endpoints over the local pool).

On AWS the deploy writes the file into the web bucket (``python -m infrastructure.auth_config``
with the stack's outputs); locally the origin serves it.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

PATH: Final = "/auth-config.json"
SCOPES: Final = ("openid", "email", "profile")


class AuthConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    #: ``cognito``: the user pool's hosted UI on AWS; ``local``: the local stack's emulation
    mode: Literal["cognito", "local"]
    #: base URL of the OAuth endpoints, no trailing slash
    domain: str
    client_id: str = Field(min_length=1)
    #: the web UI's sign-in callback (one of the app client's callback URLs)
    redirect_uri: str
    #: where ``/logout`` sends the browser back to (one of the app client's sign-out URLs)
    logout_uri: str
    scopes: tuple[str, ...] = SCOPES
    #: the pool's region (the CLI's InitiateAuth endpoint)
    region: str
    #: local stack only: who a request without a token acts as (None: sign-in required)
    default_user: str | None = None


def hosted_ui_domain(domain_prefix: str, region: str) -> str:
    """The URL of a Cognito domain prefix (``<prefix>.auth.<region>.amazoncognito.com``)."""
    return f"https://{domain_prefix}.auth.{region}.amazoncognito.com"


def for_aws(
    *, domain: str, client_id: str, region: str, site_url: str, callback_path: str
) -> AuthConfig:
    site = site_url.rstrip("/")
    return AuthConfig(
        mode="cognito",
        domain=domain.rstrip("/"),
        client_id=client_id,
        redirect_uri=site + callback_path,
        logout_uri=site + "/",
        region=region,
    )
