"""Fixtures shared by the unit suites. API route tests use the Chalice app loaded exactly as
Lambda and the local origin load it (``infrastructure.local.lambda_runtime.load_handler``: its
code dir on the path, under a module name of its own, so it never collides with another
function's ``app.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from infrastructure.local.lambda_runtime import load_handler
from infrastructure.resources import API


@pytest.fixture(scope="session")
def api_app() -> Any:
    return load_handler(API)


@pytest.fixture
def api_client(api_app: Any) -> Iterator[Client]:
    with Client(api_app) as client:
        yield client
