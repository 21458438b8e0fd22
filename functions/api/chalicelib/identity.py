"""Who is calling: the ``sub`` claim API Gateway's Cognito authorizer verified and put in the
request context. Locally the origin verifies tokens the same way and fills in the same claims,
so there is no other path: a request without claims never reaches a view on either."""

from __future__ import annotations

from chalice.app import Request

from quantdesk.errors import Unauthorized


def caller(request: Request) -> str:
    authorizer = (request.context or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    owner = claims.get("sub")
    if not owner:
        raise Unauthorized("sign in: no verified identity on the request")
    return str(owner)
