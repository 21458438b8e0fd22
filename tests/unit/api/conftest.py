from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from tests.unit.runs.conftest import SignedInClient


@pytest.fixture
def api(moto_aws: None, api_client: Client) -> Iterator[Any]:
    """The API's HTTP test client over moto, signed in as ``local``."""
    from chalicelib import services  # noqa: PLC0415 - on sys.path once the API app is loaded

    services.run_service.cache_clear()
    services.prompt_log.cache_clear()
    yield SignedInClient(api_client.http, "local")
    services.run_service.cache_clear()
    services.prompt_log.cache_clear()
