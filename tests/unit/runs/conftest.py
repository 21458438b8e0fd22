from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client


@pytest.fixture
def api(moto_aws: None, api_client: Client) -> Iterator[Any]:
    """The API's HTTP test client over moto, with a fresh run service per test."""
    from chalicelib import services  # noqa: PLC0415 - on sys.path once the API app is loaded

    services.run_service.cache_clear()
    yield api_client.http
    services.run_service.cache_clear()
