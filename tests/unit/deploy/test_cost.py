"""The cost arithmetic: usage x the committed price table (the measurement is `make cost`)."""

from __future__ import annotations

import json

import pytest

from infrastructure import cost, resources


def test_price_table_is_dated_and_complete() -> None:
    price = cost.prices()
    assert price["region"] == "us-east-1"
    assert price["as_of"]
    usage = cost.Usage(transitions=1, lambda_ms={resources.WORKER.name: 1}, invocations={"x": 1})
    assert set(cost.cost_lines(usage, price)) == {
        "Step Functions (Standard transitions)",
        "Lambda GB-seconds (arm64)",
        "Lambda requests",
        "DynamoDB requests",
        "S3 requests",
        "API Gateway requests",
    }


def test_usage_is_priced_line_by_line() -> None:
    price = json.loads(cost.PRICES_FILE.read_text())
    usage = cost.Usage(
        transitions=3,
        seconds=2.0,
        # 2 s of the worker at its 1769 MB
        lambda_ms={resources.WORKER.name: 2000.0},
        invocations={resources.WORKER.name: 1},
        requests={
            ("dynamodb", "UpdateItem"): 4,
            ("dynamodb", "Query"): 2,
            ("s3", "GetObject"): 5,
            ("s3", "PutObject"): 1,
            ("stepfunctions", "StartExecution"): 1,
        },
    )
    lines = cost.cost_lines(usage, price, api_requests=3)
    assert lines["Step Functions (Standard transitions)"] == pytest.approx(3 * 0.000025)
    gb_s = 2.0 * 1769 / 1024
    assert lines["Lambda GB-seconds (arm64)"] == pytest.approx(gb_s * 0.0000133334)
    assert lines["DynamoDB requests"] == pytest.approx(4 * 0.000000625 + 2 * 0.000000125)
    assert lines["S3 requests"] == pytest.approx(1 * 0.000005 + 5 * 0.0000004)
    assert lines["API Gateway requests"] == pytest.approx(3 * 0.0000035)
    # Express bills the request and the duration at 64 MB, not transitions
    assert cost.express_cost(usage, price) == pytest.approx(0.000001 + 2.0 * 0.0625 * 0.00001667)


def test_scaling_a_usage_scales_every_count() -> None:
    usage = cost.Usage(transitions=3, seconds=1.5, requests={("s3", "GetObject"): 2})
    scaled = usage.scaled(1000)
    assert (scaled.transitions, scaled.seconds) == (3000, 1500.0)
    assert scaled.requests == {("s3", "GetObject"): 2000}
