"""Lazily created, cached AWS clients: no I/O at import time.

Locally every client points at the LocalStack-compatible endpoint through ``localstack-client``
(set ``LOCALSTACK_HOST``, e.g. ``127.0.0.1:4566``); on AWS plain boto3 is used. Code never
special-cases the local cloud beyond this module.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

from botocore.config import Config

_lock = threading.Lock()
#: connections a client keeps open (boto3's default: 10)
MAX_POOL_CONNECTIONS = 128


def local_endpoint() -> str | None:
    """The LocalStack-compatible host:port when running locally, else None."""
    return os.environ.get("LOCALSTACK_HOST") or None


@cache
def _session() -> Any:
    host = local_endpoint()
    if host:
        from localstack_client.session import Session  # noqa: PLC0415 - the local cloud only

        return Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            localstack_host=host,
        )
    import boto3  # noqa: PLC0415 - ~100 ms: paid on the first client, not at import

    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    """A cached boto3 client for ``service`` (thread-safe creation)."""

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        tcp_keepalive=True,
        # a process serving many requests at once (the local origin's API threads) keeps a
        # connection per request in flight: beyond the pool, each request paid a new connection
        max_pool_connections=MAX_POOL_CONNECTIONS,
        # checksums only where an API requires them: wrapping large lake uploads costs seconds
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # presigned S3 links (reports, exports) signed with SigV4, which every region accepts
        signature_version="s3v4" if service == "s3" else None,
    )
    with _lock:
        return _session().client(service, config=config)


def credentials() -> Any:
    """The session's credentials (refreshed as they expire), for signing a request to an AWS
    endpoint boto3 has no client for; None when there are none."""
    return _session().get_credentials()


def reset() -> None:
    """Forget cached clients (tests switch endpoints between moto modes)."""
    client.cache_clear()
    _session.cache_clear()
