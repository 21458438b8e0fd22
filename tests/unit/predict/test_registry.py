"""The registry: versions and aliases in DynamoDB, files in S3; an alias moves without a
redeploy; unknown names are 404; a broken version is 503 while the others keep serving."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infrastructure import resources
from quantdesk import aws
from quantdesk.errors import InvalidRequest
from quantdesk.predict.errors import ModelUnavailable, UnknownModel, UnsupportedModel
from quantdesk.predict.registry import ModelRegistry
from tests.unit.predict.conftest import expected, files_of, save_model

ROW = {"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 4.0}]}


def score(api: Any, path: str, body: Any = ROW) -> Any:
    return api.post(path, body=json.dumps(body), headers={"Content-Type": "application/json"})


def prediction(response: Any) -> float:
    assert response.status_code == 200, response.body
    value: float = json.loads(response.body)["predictions"][0]["prediction"]
    return value


def test_versions_count_up_and_the_files_are_mlflows(
    registry: ModelRegistry, linear_model: Path
) -> None:
    first = registry.register("linear", files_of(linear_model), "here")
    second = registry.register("linear", files_of(linear_model), "there")
    assert (first.version, second.version) == (1, 2)
    stored = aws.client("s3").list_objects_v2(
        Bucket=resources.DATA_BUCKET, Prefix="models/linear/2/"
    )
    names = {o["Key"].removeprefix("models/linear/2/") for o in stored["Contents"]}
    assert {"MLmodel", "model.onnx", "requirements.txt", "python_env.yaml", "conda.yaml"} <= names
    assert [c.name for c in registry.version("linear", 2).spec.inputs] == ["a", "b", "c"]


def test_an_alias_moves_to_a_new_version_without_a_redeploy(
    predict_api: Any, registry: ModelRegistry, register: Callable[..., int], tmp_path: Path
) -> None:
    register(save_model(tmp_path / "v1"))
    assert prediction(score(predict_api, "/predict/linear/champion")) == pytest.approx(
        expected(1.0, 2.0, 4.0)
    )
    # version 2: the same graph with params; the alias moves, the warm service follows
    v2 = registry.register("linear", files_of(save_model(tmp_path / "v2", True)), "v2")
    registry.set_alias("linear", "champion", v2.version)
    moved = score(predict_api, "/predict/linear/champion", {**ROW, "params": {"scale": 2.0}})
    assert moved.headers["X-Model-Version"] == "2"
    assert prediction(moved) == pytest.approx(expected(1.0, 2.0, 4.0, scale=2.0))
    # version 1 still answers by number
    assert score(predict_api, "/predict/linear/1").headers["X-Model-Version"] == "1"


def test_post_predict_scores_the_default_models_champion(
    predict_api: Any, register: Callable[..., int], linear_model: Path
) -> None:
    from quantdesk.predict.settings import get_predict_settings  # noqa: PLC0415

    assert score(predict_api, "/predict").status_code == 404
    register(linear_model, name=get_predict_settings().default_model)
    assert prediction(score(predict_api, "/predict")) == pytest.approx(expected(1.0, 2.0, 4.0))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/predict/nope/champion", "model"),
        ("/predict/linear/challenger", "alias"),
        ("/predict/linear/7", "version"),
    ],
)
def test_unknown_model_alias_or_version_is_404(
    predict_api: Any, register: Callable[..., int], linear_model: Path, path: str, field: str
) -> None:
    register(linear_model)
    response = score(predict_api, path)
    assert response.status_code == 404
    assert json.loads(response.body)["field"] == field


def test_a_missing_artifact_is_503_and_the_loaded_version_keeps_serving(
    predict_api: Any, registry: ModelRegistry, register: Callable[..., int], linear_model: Path
) -> None:
    register(linear_model)
    assert score(predict_api, "/predict/linear/champion").status_code == 200  # v1 loaded
    v2 = registry.register("linear", files_of(linear_model), "v2").version
    aws.client("s3").delete_object(Bucket=resources.DATA_BUCKET, Key="models/linear/2/model.onnx")
    broken = score(predict_api, f"/predict/linear/{v2}")
    assert broken.status_code == 503
    error = json.loads(broken.body)
    assert error["code"] == "service_unavailable"
    assert "version 2 is missing its file model.onnx" in error["message"]
    # the alias refuses to move onto it, so the champion keeps serving version 1
    with pytest.raises(ModelUnavailable):
        registry.set_alias("linear", "champion", v2)
    assert score(predict_api, "/predict/linear/champion").headers["X-Model-Version"] == "1"


def test_a_corrupt_artifact_is_503_naming_the_version(
    predict_api: Any, registry: ModelRegistry, register: Callable[..., int], linear_model: Path
) -> None:
    register(linear_model)
    aws.client("s3").put_object(
        Bucket=resources.DATA_BUCKET, Key="models/linear/1/model.onnx", Body=b"not onnx"
    )
    response = score(predict_api, "/predict/linear/champion")
    assert response.status_code == 503
    assert "version 1 cannot be loaded" in json.loads(response.body)["message"]


def test_models_that_cannot_serve_are_refused_at_registration(
    registry: ModelRegistry, linear_model: Path
) -> None:
    files = files_of(linear_model)
    sklearn_like = files["MLmodel"].replace(b"  onnx:", b"  sklearn:")
    with pytest.raises(UnsupportedModel, match="only the ONNX flavor"):
        registry.register("bad", {**files, "MLmodel": sklearn_like}, "x")
    with pytest.raises(UnsupportedModel, match="not a loadable ONNX model"):
        registry.register("bad", {**files, "model.onnx": b"garbage"}, "x")
    without_signature = b"\n".join(
        line for line in files["MLmodel"].splitlines() if not line.startswith(b"signature")
    )
    with pytest.raises(UnsupportedModel):
        registry.register("bad", {**files, "MLmodel": without_signature}, "x")
    with pytest.raises(InvalidRequest, match="model name"):
        registry.register("no spaces", files, "x")
    with pytest.raises(UnknownModel):
        registry.model("bad")  # nothing was recorded


def test_delete_a_version_drops_its_aliases_and_files(
    registry: ModelRegistry, register: Callable[..., int], linear_model: Path
) -> None:
    register(linear_model)
    register(linear_model, alias="challenger")
    assert registry.delete("linear", 2) == [2]
    assert registry.model("linear").aliases == {"champion": 1}
    left = aws.client("s3").list_objects_v2(Bucket=resources.DATA_BUCKET, Prefix="models/")
    assert all(o["Key"].startswith("models/linear/1/") for o in left["Contents"])
    assert registry.delete("linear") == [1]
    assert registry.names() == []
    with pytest.raises(UnknownModel):
        registry.resolve("linear", "champion")


def test_get_predict_models_lists_versions_aliases_and_signatures(
    predict_api: Any, register: Callable[..., int], linear_model: Path, scaled_model: Path
) -> None:
    register(linear_model)
    register(scaled_model, alias="challenger")
    response = predict_api.get("/predict/models")
    assert response.status_code == 200
    listing = json.loads(response.body)
    (model,) = listing["models"]
    assert model["name"] == "linear"
    assert model["aliases"] == {"champion": 1, "challenger": 2}
    first, second = model["versions"]
    assert first["aliases"] == ["champion"]
    assert first["inputs"] == [
        {"name": "a", "type": "double", "required": True},
        {"name": "b", "type": "double", "required": True},
        {"name": "c", "type": "double", "required": False},
    ]
    assert second["params"] == [{"name": "scale", "type": "double", "default": 1.0}]
    assert listing["max_rows"] > 0
