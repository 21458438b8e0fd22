from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from quantdesk import aws
from quantdesk.runs.service import RunService
from quantdesk.settings import get_settings
from tests.unit.waiting_workflow import create_waiting_workflow


def claims_header(sub: str) -> str:
    """An Authorization header chalice's test client turns into authorizer claims (it decodes,
    never verifies: verification is API Gateway's job, and the local origin's; see
    tests/unit/local/test_authorizer.py)."""
    payload = base64.urlsafe_b64encode(json.dumps({"sub": sub, "cognito:username": sub}).encode())
    return f"x.{payload.decode().rstrip('=')}.x"


class SignedInClient:
    """The chalice test client acting as ``owner`` unless a request passes its own headers."""

    def __init__(self, http: Any, owner: str) -> None:
        self.http = http
        self.owner = owner

    def as_user(self, owner: str) -> SignedInClient:
        return SignedInClient(self.http, owner)

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.http, method)

        def request(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
            merged = {"Authorization": claims_header(self.owner), **(headers or {})}
            return call(path, headers=merged, **kwargs)

        return request


@pytest.fixture
def api(moto_aws: None, api_client: Client) -> Iterator[Any]:
    """The API's HTTP test client over moto, with a fresh run service per test."""
    from chalicelib import services  # noqa: PLC0415 - on sys.path once the API app is loaded

    services.run_service.cache_clear()
    yield SignedInClient(api_client.http, "local")
    services.run_service.cache_clear()


@pytest.fixture
def service(moto_aws: None) -> RunService:
    create_waiting_workflow()
    return RunService(get_settings())


@pytest.fixture
def scans(moto_aws: None) -> Iterator[list[str]]:
    """The table Scans made through the code's DynamoDB client (recorded, not refused)."""
    made: list[str] = []
    db = aws.client("dynamodb")

    def record(params: dict[str, Any], **_: Any) -> None:
        made.append(params.get("TableName", "?"))

    db.meta.events.register("before-call.dynamodb.Scan", record)
    yield made
    db.meta.events.unregister("before-call.dynamodb.Scan", record)
