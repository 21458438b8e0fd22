"""Who is calling. On AWS the API Gateway authorizer puts the caller's claims in the request
context; locally (no authorizer) everyone is the single local researcher."""

from __future__ import annotations

from chalice.app import Request

LOCAL_OWNER = "local"


def caller(request: Request) -> str:
    authorizer = (request.context or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    owner = claims.get("sub") or authorizer.get("principalId")
    return str(owner) if owner else LOCAL_OWNER
