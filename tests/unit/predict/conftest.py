"""Models in MLflow's own format, written by MLflow (``mlflow.onnx.save_model``), and the API
over moto with a fresh predict service per test.

``linear_model``: ``prediction = 2a - b + 0.5 c + 1`` over columns ``a`` (double), ``b``
(double) and ``c`` (double, optional), one ONNX input; ``scaled_model`` adds an ONNX input
``scale`` that the signature declares as a param (default 1.0) multiplying the prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chalice.test import Client

from infrastructure import resources
from infrastructure.local.lambda_runtime import load_handler
from quantdesk.predict.registry import ModelRegistry
from tests.unit.runs.conftest import SignedInClient

WEIGHTS = (2.0, -1.0, 0.5)
BIAS = 1.0


def expected(a: float, b: float, c: float = 0.0, scale: float = 1.0) -> float:
    return scale * (WEIGHTS[0] * a + WEIGHTS[1] * b + WEIGHTS[2] * c + BIAS)


def _graph(with_scale: bool) -> Any:
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    nodes = [
        helper.make_node("MatMul", ["features", "weights"], ["weighted"]),
        helper.make_node("Add", ["weighted", "bias"], ["raw" if with_scale else "prediction"]),
    ]
    inputs = [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 3])]
    if with_scale:
        nodes.append(helper.make_node("Mul", ["raw", "scale"], ["prediction"]))
        inputs.append(helper.make_tensor_value_info("scale", TensorProto.FLOAT, [1, 1]))
    graph = helper.make_graph(
        nodes,
        "linear",
        inputs,
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
        [
            numpy_helper.from_array(np.array(WEIGHTS, dtype=np.float32).reshape(3, 1), "weights"),
            numpy_helper.from_array(np.array([BIAS], dtype=np.float32), "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return model


def signature(with_scale: bool = False) -> Any:
    from mlflow.models import ModelSignature  # noqa: PLC0415
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema  # noqa: PLC0415

    return ModelSignature(
        inputs=Schema(
            [
                ColSpec("double", "a"),
                ColSpec("double", "b"),
                ColSpec("double", "c", required=False),
            ]
        ),
        outputs=Schema([ColSpec("float", "prediction")]),
        params=ParamSchema([ParamSpec("scale", "double", 1.0)]) if with_scale else None,
    )


def save_model(path: Path, with_scale: bool = False) -> Path:
    import mlflow.onnx  # noqa: PLC0415

    mlflow.onnx.save_model(
        _graph(with_scale),
        str(path),
        signature=signature(with_scale),
        pip_requirements=["onnxruntime==1.31.1"],
    )
    return path


@pytest.fixture(scope="session")
def linear_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(tmp_path_factory.mktemp("models") / "linear")


@pytest.fixture(scope="session")
def scaled_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(tmp_path_factory.mktemp("models") / "scaled", with_scale=True)


def files_of(path: Path) -> dict[str, bytes]:
    from quantdesk.cli.models import read_directory  # noqa: PLC0415

    return read_directory(path)


@pytest.fixture
def registry(moto_aws: None) -> ModelRegistry:
    return ModelRegistry(resources.TABLE.name, resources.DATA_BUCKET)


@pytest.fixture
def predict_client(moto_aws: None) -> Iterator[Client]:
    """The predict function's app (as Lambda loads it) with a fresh predict service."""
    app = load_handler(resources.PREDICT)
    from chalicelib.routes import predict  # noqa: PLC0415 - on sys.path once the app is loaded

    predict.predict_service.cache_clear()
    with Client(app) as client:
        yield client
    predict.predict_service.cache_clear()


@pytest.fixture
def predict_api(predict_client: Client) -> SignedInClient:
    """The predict function's test client, signed in."""
    return SignedInClient(predict_client.http, "researcher")


@pytest.fixture
def register(registry: ModelRegistry) -> Callable[..., int]:
    """``register(path, name="linear", alias="champion")`` -> the version."""

    def add(path: Path, name: str = "linear", alias: str | None = "champion") -> int:
        record = registry.register(name, files_of(path), str(path))
        if alias:
            registry.set_alias(name, alias, record.version)
        return record.version

    return add
