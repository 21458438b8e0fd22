"""The step Lambdas called directly, loaded as Lambda loads them: input validated by pydantic,
output the next step's input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from infrastructure import resources
from infrastructure.local.lambda_runtime import load_handler


@dataclass
class Context:
    function_name: str = "quantdesk-ingest-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id: str = "req-1"


def _handlers() -> dict[str, Any]:
    return {
        f.handler.removeprefix("handler."): load_handler(f) for f in resources.INGESTION_FUNCTIONS
    }


def test_steps_chain_through_their_json_outputs(moto_aws: None) -> None:
    handlers = _handlers()
    event: dict[str, Any] = {
        "run_id": "ing-h1",
        "request": {"source": "sample", "datasets": ["macro"]},
    }
    for step in ("fetch", "validate", "write", "publish"):
        event = handlers[step](event, Context())
    assert event["status"] == "succeeded" and event["source"] == "sample"
    summary = handlers["summarize"]({"run_id": "ing-h1", "results": [event]}, Context())
    assert summary["status"] == "succeeded"


@pytest.mark.parametrize(
    "event",
    [
        {"request": {"source": "sample"}},
        {"run_id": "bad id with spaces", "request": {"source": "sample"}},
        {"run_id": "ing-1", "request": {"source": "sample", "surprise": True}},
    ],
)
def test_malformed_input_is_rejected_before_any_work(moto_aws: None, event: dict) -> None:
    with pytest.raises(ValidationError):
        _handlers()["fetch"](event, Context())
