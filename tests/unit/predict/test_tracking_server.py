"""With ``QD_PREDICT_TRACKING_URI`` set, ``/predict`` serves the Model Registry of a real MLflow
tracking server (``mlflow server``, sqlite + a local artifact root behind its artifact proxy,
started here): models logged with ``mlflow.onnx.log_model`` and registered with MLflow's own
client serve, list, follow alias moves, and fail as the contract says."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.unit.predict.conftest import _graph, expected, signature

ROWS = [{"a": 1.0, "b": 2.0, "c": 4}, {"a": -0.5, "b": 0.25, "c": 0}]
WANT = [{"prediction": pytest.approx(expected(**r))} for r in ROWS]
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Server:
    url: str
    artifacts: Path

    def register(self, name: str, alias: str | None = None, with_scale: bool = False) -> int:
        """Log an ONNX model with MLflow's own API, register it, optionally alias it."""
        import mlflow  # noqa: PLC0415
        import mlflow.onnx  # noqa: PLC0415

        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.url)
        try:
            with mlflow.start_run():
                info = mlflow.onnx.log_model(
                    _graph(with_scale),
                    name="model",
                    signature=signature(with_scale),
                    pip_requirements=["onnxruntime==1.31.1"],
                )
            version = int(mlflow.register_model(info.model_uri, name).version)
        finally:
            mlflow.set_tracking_uri(previous)
        if alias:
            self.alias(name, alias, version)
        return version

    def alias(self, name: str, alias: str, version: int) -> None:
        self.client().set_registered_model_alias(name, alias, str(version))

    def client(self) -> Any:
        from mlflow import MlflowClient  # noqa: PLC0415

        return MlflowClient(tracking_uri=self.url, registry_uri=self.url)

    def artifact(self, name: str, version: int, path: str) -> Path:
        """The file the server's artifact proxy serves for that version (on this disk)."""
        uri = self.client().get_model_version_download_uri(name, str(version))
        return self.artifacts / uri.removeprefix("mlflow-artifacts:/") / path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    try:
        import mlflow.server  # noqa: F401, PLC0415
    except ImportError as exc:
        pytest.skip(f"mlflow's tracking server cannot start here ({exc}): install the dev extras")
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = (root / "server.log").open("wb")
    command = [sys.executable, "-m", "mlflow", "server"]
    command += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"]
    command += ["--artifacts-destination", str(root / "artifacts"), "--serve-artifacts"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (root / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server did not start within {START_TIMEOUT_S} s:\n{tail}")
            time.sleep(0.5)
        yield Server(url, root / "artifacts")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def tracked(mlflow_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The predict function configured for the tracking server (alias TTL 0: every request
    asks the server, so a move is seen at once)."""
    from quantdesk.predict.settings import get_predict_settings  # noqa: PLC0415

    monkeypatch.setenv("QD_PREDICT_TRACKING_URI", mlflow_server.url)
    monkeypatch.setenv("QD_PREDICT_ALIAS_TTL_S", "0")
    get_predict_settings.cache_clear()
    yield mlflow_server
    get_predict_settings.cache_clear()


def score(api: Any, path: str, body: Any = None) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body or {"dataframe_records": ROWS})
    return api.post(path, body=raw, headers={"Content-Type": "application/json"})


def fresh(predict_api: Any) -> None:
    """A new container: nothing loaded, nothing resolved."""
    from chalicelib.routes import predict  # noqa: PLC0415

    predict.predict_service.cache_clear()


def test_a_model_registered_with_mlflow_serves_by_alias_version_and_default(
    predict_api: Any, tracked: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = tracked.register("served", alias="champion")
    for path in ("/predict/served/champion", f"/predict/served/{version}"):
        response = score(predict_api, path)
        assert response.status_code == 200, response.body
        assert json.loads(response.body) == {"predictions": WANT}
        assert response.headers["X-Model-Version"] == str(version)
    from quantdesk.predict.settings import get_predict_settings  # noqa: PLC0415

    monkeypatch.setenv("QD_PREDICT_DEFAULT_MODEL", "served")
    get_predict_settings.cache_clear()
    fresh(predict_api)
    default = score(predict_api, "/predict")
    assert default.status_code == 200, default.body
    assert json.loads(default.body) == {"predictions": WANT}


def test_get_predict_models_lists_the_servers_models_versions_aliases_and_signatures(
    predict_api: Any, tracked: Server
) -> None:
    first = tracked.register("listed", alias="champion")
    second = tracked.register("listed", alias="challenger", with_scale=True)
    listing = json.loads(predict_api.get("/predict/models").body)
    (model,) = [m for m in listing["models"] if m["name"] == "listed"]
    assert model["aliases"] == {"champion": first, "challenger": second}
    versions = {v["version"]: v for v in model["versions"]}
    assert set(versions) == {first, second}
    assert versions[first]["aliases"] == ["champion"]
    assert versions[first]["source"].startswith("models:/")
    assert versions[first]["inputs"] == [
        {"name": "a", "type": "double", "required": True},
        {"name": "b", "type": "double", "required": True},
        {"name": "c", "type": "double", "required": False},
    ]
    assert versions[second]["params"] == [{"name": "scale", "type": "double", "default": 1.0}]


def test_an_alias_moved_on_the_server_is_followed_without_a_redeploy(
    predict_api: Any, tracked: Server
) -> None:
    first = tracked.register("moving", alias="champion")
    second = tracked.register("moving", with_scale=True)
    body = {"dataframe_records": ROWS[:1], "params": {"scale": 2.0}}
    before = score(predict_api, "/predict/moving/champion", body)
    assert before.headers["X-Model-Version"] == str(first)
    tracked.alias("moving", "champion", second)
    after = score(predict_api, "/predict/moving/champion", body)
    assert after.status_code == 200, after.body
    assert after.headers["X-Model-Version"] == str(second)
    # the new version's params reach its graph: it really is the other model answering
    assert json.loads(after.body)["predictions"] == [
        {"prediction": pytest.approx(expected(**ROWS[0], scale=2.0))}
    ]


def test_alias_resolutions_are_reused_for_the_ttl_then_asked_again(mlflow_server: Server) -> None:
    from quantdesk.predict.tracking_client import TrackingClient  # noqa: PLC0415
    from quantdesk.predict.tracking_registry import TrackingRegistry  # noqa: PLC0415

    now = [0.0]
    registry = TrackingRegistry(TrackingClient(mlflow_server.url), ttl_s=10, clock=lambda: now[0])
    first = mlflow_server.register("ttl", alias="champion")
    second = mlflow_server.register("ttl")
    assert registry.resolve("ttl", "champion") == first
    mlflow_server.alias("ttl", "champion", second)
    now[0] = 9.9
    assert registry.resolve("ttl", "champion") == first  # no request within the TTL
    now[0] = 10.0
    assert registry.resolve("ttl", "champion") == second


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/predict/nobody/champion", "model"),
        ("/predict/nobody/1", "model"),
        ("/predict/known/nope", "alias"),
        ("/predict/known/99", "version"),
    ],
)
def test_unknown_model_alias_or_version_is_404(
    predict_api: Any, tracked: Server, path: str, field: str
) -> None:
    if not tracked.client().search_registered_models(filter_string="name='known'"):
        tracked.register("known", alias="champion")
    response = score(predict_api, path)
    assert response.status_code == 404, response.body
    assert json.loads(response.body)["field"] == field


@pytest.mark.parametrize(
    ("name", "damage", "words"),
    [
        ("corrupt", lambda path: path.write_bytes(b"not onnx"), "is not a loadable ONNX model"),
        ("missing", lambda path: path.unlink(), "its artifacts have no model.onnx"),
    ],
)
def test_a_broken_version_is_503_and_the_previous_version_keeps_serving(
    predict_api: Any, tracked: Server, name: str, damage: Callable[[Path], None], words: str
) -> None:
    good = tracked.register(name, alias="champion")
    bad = tracked.register(name)
    damage(tracked.artifact(name, bad, "model.onnx"))
    assert score(predict_api, f"/predict/{name}/champion").status_code == 200  # good loaded
    broken = score(predict_api, f"/predict/{name}/{bad}")
    assert broken.status_code == 503
    error = json.loads(broken.body)
    assert error["code"] == "service_unavailable"
    assert f"version {bad} cannot be loaded" in error["message"]
    assert words in error["message"]
    # moved onto the broken version, the alias keeps answering with the one it served
    tracked.alias(name, "champion", bad)
    kept = score(predict_api, f"/predict/{name}/champion")
    assert kept.status_code == 200, kept.body
    assert kept.headers["X-Model-Version"] == str(good)
    assert json.loads(kept.body) == {"predictions": WANT}
    # a container that never served it says what is wrong
    fresh(predict_api)
    assert score(predict_api, f"/predict/{name}/champion").status_code == 503
    assert score(predict_api, f"/predict/{name}/{good}").status_code == 200
    # a new container's listing leaves out what cannot serve (no MLmodel), keeps the rest
    shutil.rmtree(tracked.artifact(name, bad, ""))
    fresh(predict_api)
    listing = json.loads(predict_api.get("/predict/models").body)
    (model,) = [m for m in listing["models"] if m["name"] == name]
    assert [v["version"] for v in model["versions"]] == [good]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataframe_records": [{"a": 1.0}]}, "b"),
        ({"dataframe_records": [{"a": 1.0, "b": "two"}]}, "b"),
        ('{"dataframe_split": {"columns": ["a", "b"], "data": [[NaN, 1.0]]}}', "a"),
        ({"rows": [[1.0, 2.0]]}, "body"),
        ({"inputs": {"a": [0.0] * 1001, "b": [0.0] * 1001}}, "inputs"),
    ],
    ids=["missing-column", "wrong-type", "nan", "no-format", "too-many-rows"],
)
def test_bad_input_is_400_naming_the_field_on_this_path_too(
    predict_api: Any, tracked: Server, body: Any, field: str
) -> None:
    if not tracked.client().search_registered_models(filter_string="name='strict'"):
        tracked.register("strict", alias="champion")
    response = score(predict_api, "/predict/strict/champion", body)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["field"] == field


def test_an_unreachable_server_is_503_and_a_known_alias_keeps_its_version(
    mlflow_server: Server,
) -> None:
    from quantdesk.errors import ServiceUnavailable  # noqa: PLC0415
    from quantdesk.predict.tracking_client import TrackingClient  # noqa: PLC0415
    from quantdesk.predict.tracking_registry import TrackingRegistry  # noqa: PLC0415

    version = mlflow_server.register("flaky", alias="champion")
    now = [0.0]
    registry = TrackingRegistry(TrackingClient(mlflow_server.url), ttl_s=1, clock=lambda: now[0])
    assert registry.resolve("flaky", "champion") == version
    registry.client = TrackingClient(f"http://127.0.0.1:{_free_port()}", timeout_s=2)
    now[0] = 5.0
    assert registry.resolve("flaky", "champion") == version
    with pytest.raises(ServiceUnavailable, match="did not answer"):
        registry.resolve("flaky", "challenger")
