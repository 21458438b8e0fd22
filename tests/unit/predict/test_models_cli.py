"""``quantdesk models``: register (a directory, or an MLflow URI of a model logged with MLflow's
own ``log_model``), list, alias, delete; against moto's in-process AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quantdesk.cli import main
from quantdesk.cli import models as models_cli
from quantdesk.predict.registry import ModelRegistry
from tests.unit.predict.conftest import _graph, expected, signature


@pytest.fixture
def cli(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    """The CLI's registry is moto's (the stack's outputs name the real one)."""
    monkeypatch.setattr(models_cli, "registry_for", lambda stack: registry)
    monkeypatch.setattr(models_cli, "use_cloud", lambda args: None)
    return registry


def test_register_list_alias_delete(
    cli: ModelRegistry, linear_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "register", str(linear_model), "--name", "linear"]) == 0
    assert (
        main(["models", "register", str(linear_model), "--name", "linear", "--alias", "champion"])
        == 0
    )
    assert cli.model("linear").aliases == {"champion": 2}
    assert main(["models", "alias", "linear", "1", "champion"]) == 0
    assert cli.resolve("linear", "champion") == 1
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    listed = capsys.readouterr().out
    assert "linear  (champion -> 1)" in listed
    assert "inputs: a:double, b:double, c:double" in listed
    assert main(["models", "delete", "linear", "--version", "1"]) == 0
    assert cli.model("linear").aliases == {}
    assert main(["models", "delete", "linear"]) == 0
    assert cli.names() == []


def test_refusals_exit_2_with_the_reason(
    cli: ModelRegistry, linear_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "register", str(tmp_path), "--name", "x"]) == 2
    assert "no MLmodel file" in capsys.readouterr().err
    assert main(["models", "alias", "nothing", "1", "champion"]) == 2
    assert "no registered model 'nothing'" in capsys.readouterr().err
    main(["models", "register", str(linear_model), "--name", "linear"])
    assert main(["models", "alias", "linear", "1", "123"]) == 2
    assert "not all digits" in capsys.readouterr().err


def test_a_model_logged_with_mlflows_log_model_registers_from_its_run_and_serves(
    cli: ModelRegistry,
    predict_api: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import mlflow  # noqa: PLC0415
    import mlflow.onnx  # noqa: PLC0415

    # a user's own tracking store (a local one: MLflow's file store must be allowed explicitly)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    with mlflow.start_run() as run:
        mlflow.onnx.log_model(_graph(False), name="model", signature=signature())
    uri = f"runs:/{run.info.run_id}/model"
    assert main(["models", "register", uri, "--name", "logged", "--alias", "champion"]) == 0
    assert f"registered logged version 1 from {uri}" in capsys.readouterr().out
    response = predict_api.post(
        "/predict/logged/champion",
        body=json.dumps(
            {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[3.0, 1.0, 2.0]]}}
        ),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {
        "predictions": [{"prediction": pytest.approx(expected(3.0, 1.0, 2.0))}]
    }
