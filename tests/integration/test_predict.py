"""/predict through the local cloud's origin: the champion ``make up`` trained on the sample
lake answers on a fresh start, and a model registered with ``quantdesk models`` serves as soon
as its alias moves (no restart)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from quantdesk.predict.returns_model import ALIAS, FEATURES, NAME
from tests.conftest import Stack
from tests.unit.predict.conftest import expected, save_model

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


def models_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "quantdesk"),
            "models",
            *args,
            "--endpoint",
            stack.aws_endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_champion_trained_at_start_answers_post_predict(client: httpx.Client) -> None:
    listing = client.get("/predict/models").json()
    (model,) = [m for m in listing["models"] if m["name"] == NAME]
    version = model["aliases"][ALIAS]
    (champion,) = [v for v in model["versions"] if v["version"] == version]
    columns = [c["name"] for c in champion["inputs"]]
    assert columns == list(FEATURES)
    rows = [[0.5 * (i - j) for j in range(len(columns))] for i in range(3)]
    response = client.post("/predict", json={"dataframe_split": {"columns": columns, "data": rows}})
    assert response.status_code == 200, response.text
    assert response.headers["x-model-version"] == str(version)
    predictions = response.json()["predictions"]
    assert len(predictions) == 3
    assert all(isinstance(p["prediction"], float) for p in predictions)
    # a bad payload is the API's 400, through the origin
    bad = client.post("/predict", json={"dataframe_records": [{"momentum_12_1": "high"}]})
    assert bad.status_code == 400
    assert bad.json()["field"] in columns


def test_a_registered_model_serves_once_its_alias_moves(
    stack: Stack, client: httpx.Client, tmp_path: Path
) -> None:
    plain, scaled = save_model(tmp_path / "plain"), save_model(tmp_path / "scaled", True)
    first = models_cli(stack, "register", str(plain), "--name", "it-linear", "--alias", "live")
    assert first.returncode == 0, first.stderr
    rows: dict[str, Any] = {"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 4.0}]}
    path = "/predict/it-linear/live"
    assert client.post(path, json=rows).json() == {
        "predictions": [{"prediction": pytest.approx(expected(1.0, 2.0, 4.0))}]
    }
    second = models_cli(stack, "register", str(scaled), "--name", "it-linear")
    assert second.returncode == 0, second.stderr
    moved = models_cli(stack, "alias", "it-linear", "2", "live")
    assert moved.returncode == 0, moved.stderr
    response = client.post(path, json={**rows, "params": {"scale": 2.0}})
    assert response.headers["x-model-version"] == "2"
    assert json.loads(response.text)["predictions"] == [
        {"prediction": pytest.approx(expected(1.0, 2.0, 4.0, scale=2.0))}
    ]
    listed = models_cli(stack, "list")
    assert "it-linear  (live -> 2)" in listed.stdout
    assert models_cli(stack, "delete", "it-linear").returncode == 0
    assert client.post(path, json=rows).status_code == 404
