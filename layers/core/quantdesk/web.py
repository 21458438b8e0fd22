"""What every HTTP surface (the API, the SSE app, the local origin) answers the same way: the
security headers, the request-body limit and the bearer challenge.

HSTS is not here: on AWS CloudFront's response headers policy adds it (the local origin is
plain HTTP, where browsers ignore it).
"""

from __future__ import annotations

from typing import Final

#: every API body is a small JSON object; anything larger is refused (413) before it is read
MAX_BODY_BYTES: Final = 64 * 1024

#: JSON and event streams: nothing may load, frame or run anything from them
API_CSP: Final = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: the static web UI (Next.js export: its bootstrap scripts and styles are inline)
PAGE_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

_COMMON: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_HEADERS: Final[dict[str, str]] = {**_COMMON, "Content-Security-Policy": API_CSP}
PAGE_HEADERS: Final[dict[str, str]] = {**_COMMON, "Content-Security-Policy": PAGE_CSP}

ERROR_CONTENT_TYPE: Final = "application/json"


def bearer_challenge(description: str | None = None) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750): no credentials at all get the bare
    challenge, bad ones ``error="invalid_token"``."""
    if description is None:
        return 'Bearer realm="quantdesk"'
    safe = description.replace("\\", "").replace('"', "'")
    return f'Bearer realm="quantdesk", error="invalid_token", error_description="{safe}"'
