from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infrastructure.local.lambda_runtime import load_handler
from infrastructure.resources import API


@pytest.fixture(scope="session")
def chalice_app() -> Any:
    """The API app loaded exactly as Lambda (and the local origin) load it."""
    return load_handler(API)  # same loader as tests/unit/api


@pytest.fixture
def api(moto_aws: None, chalice_app: Any) -> Iterator[Any]:
    from chalice.test import Client

    from chalicelib import services

    services.run_service.cache_clear()
    with Client(chalice_app) as client:
        yield client.http
    services.run_service.cache_clear()
