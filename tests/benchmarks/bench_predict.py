"""/predict warm and cold latency, in process over moto (``mock_aws``), through the predict
function's Chalice app as Lambda invokes it.

Prints the median over ``REQUESTS`` warm requests of ``ROWS`` rows (dataframe_split), the first
request (the version loaded from S3 into an ONNX session), and two baselines measured in the
same run: ``GET /analysis/scenarios`` through the API's app (what any API request costs here:
chalice's test gateway, the authorizer claims, logging) and the scoring alone (parse, signature
checks, ``onnxruntime``) without the alias lookup, which is a DynamoDB read (moto's here).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from chalice.test import Client

from tests.unit.predict.conftest import files_of, save_model

REQUESTS = 200
ROWS = 100


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    import os  # noqa: PLC0415

    from moto import mock_aws  # noqa: PLC0415

    from infrastructure import resources  # noqa: PLC0415
    from infrastructure.local.cloud import ACCOUNT, REGION  # noqa: PLC0415
    from infrastructure.local.lambda_runtime import load_handler  # noqa: PLC0415
    from quantdesk import aws  # noqa: PLC0415
    from quantdesk.predict.models import ScoringRequest  # noqa: PLC0415
    from quantdesk.predict.protocol import columns_of, enforce  # noqa: PLC0415
    from quantdesk.predict.registry import ModelRegistry  # noqa: PLC0415
    from quantdesk.settings import get_settings  # noqa: PLC0415
    from tests.unit.runs.conftest import claims_header  # noqa: PLC0415

    os.environ.update(resources.environment(REGION, ACCOUNT))
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.pop("LOCALSTACK_HOST", None)
    get_settings.cache_clear()
    aws.reset()
    rng = np.random.default_rng(1)
    data = rng.normal(size=(ROWS, 3)).round(6).tolist()
    body = json.dumps({"dataframe_split": {"columns": ["a", "b", "c"], "data": data}})
    headers = {"Content-Type": "application/json", "Authorization": claims_header("bench")}
    with mock_aws(), tempfile.TemporaryDirectory() as scratch:
        aws.client("dynamodb").create_table(**resources.TABLE.create_kwargs())
        aws.client("s3").create_bucket(Bucket=resources.DATA_BUCKET)
        registry = ModelRegistry(resources.TABLE.name, resources.DATA_BUCKET)
        record = registry.register("bench", files_of(save_model(Path(scratch) / "m")), "bench")
        registry.set_alias("bench", "champion", record.version)
        app = load_handler(resources.PREDICT)
        with Client(app) as client:
            started = time.perf_counter()
            first = client.http.post("/predict/bench/champion", body=body, headers=headers)
            cold = time.perf_counter() - started
            assert first.status_code == 200, first.body
            warm = _timed(
                lambda: client.http.post("/predict/bench/champion", body=body, headers=headers)
            )
        with Client(load_handler(resources.API)) as api:
            other = _timed(lambda: api.http.get("/analysis/scenarios", headers=headers))
        resolve = _timed(lambda: registry.resolve("bench", "champion"))
        model = registry.load(record)
        request = ScoringRequest.model_validate_json(body)

        def score() -> None:
            _, columns, _ = columns_of(request)
            model.predict(enforce(columns, model.spec.inputs, from_csv=False), {})

        scoring = _timed(score)
    print(f"first request (load from S3 into an ONNX session; onnxruntime imported): {_ms(cold)}")
    print(f"warm POST /predict, {ROWS} rows, median of {REQUESTS}: {_ms(warm)}")
    print(f"  of which the alias lookup (moto's DynamoDB): {_ms(resolve)}")
    print(f"  of which parse + signature + onnxruntime: {_ms(scoring)}")
    print(f"baseline GET /analysis/scenarios, the API's app: {_ms(other)}")
    print(f"warm predict / baseline request: {warm / other:.2f}x")


def _timed(call: Callable[[], object]) -> float:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
