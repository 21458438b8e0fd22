"""Route tests import the Chalice app the way Lambda does: ``functions/api`` on ``sys.path``,
then ``import app``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

API_DIR = Path(__file__).resolve().parents[3] / "functions" / "api"
if str(API_DIR) not in sys.path:
    sys.path.insert(0, str(API_DIR))


@pytest.fixture(scope="session")
def api_app():  # type: ignore[no-untyped-def]
    import app

    return app.app


@pytest.fixture
def client(api_app) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    with Client(api_app) as test_client:
        yield test_client
