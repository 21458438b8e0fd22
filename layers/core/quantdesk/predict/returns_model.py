"""The model shipped with quantdesk: ridge regression of next-month returns on the factor
ladder's exposures, trained on the lake's point-in-time data, logged in MLflow's format (ONNX
flavor, signature, input example) and registered as ``returns-ridge`` with alias ``champion``.

Samples: every ``STEP`` sessions (a formation date ``t``, from the first date with a year of
history), each asset's cross-sectional z-scores of the exposures at ``t`` (fundamentals as known
on ``t``, never later) and its return over the next ``HORIZON`` sessions, demeaned across assets.
The split is by time: the first ``TRAIN_SHARE`` of formation dates train, the rest test, with one
horizon left out between them so no training label overlaps a test date's window. The
out-of-sample IC is the mean per-date Spearman correlation of prediction and realised return.

``python -m quantdesk.predict.returns_model [--out DIR] [--register]`` trains and prints the IC;
``make up`` calls :func:`ensure_champion` (once: later starts find it registered).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from scenarios.base import ScenarioData, ScenarioParams
from scenarios.crosssection import zscore_rows
from scenarios.factors import (
    FUNDAMENTAL_FACTORS,
    PRICE_FACTORS,
    fundamental_exposures,
    fundamental_subscores,
    price_factor,
)
from scenarios.panel import load_panel
from scenarios.pointintime import fundamentals_history, require

NAME: Final = "returns-ridge"
ALIAS: Final = "champion"
FEATURES: Final = (*PRICE_FACTORS, *FUNDAMENTAL_FACTORS)
HORIZON: Final = 21
STEP: Final = 21
TRAIN_SHARE: Final = 0.7
RIDGE_ALPHA: Final = 10.0
UNIVERSE: Final = "us_all"
#: train on all the history the lake has
EARLIEST: Final = dt.date(1970, 1, 1)
PIP_REQUIREMENTS: Final = ("onnxruntime==1.31.1",)


@dataclass(frozen=True)
class Samples:
    """``features`` ``(D, N, F)``, ``labels`` ``(D, N)`` (NaN where unknown), ``dates`` (D)."""

    features: np.ndarray
    labels: np.ndarray
    dates: list[dt.date]


@dataclass(frozen=True)
class TrainedModel:
    weights: np.ndarray
    intercept: float
    train_dates: int
    test_dates: int
    oos_ic: float
    in_sample_ic: float


def samples(data: ScenarioData) -> Samples:
    """The factor exposures at each formation date and the next month's relative return."""
    params = ScenarioParams(universe=UNIVERSE)
    warmup = max(PRICE_FACTORS.values())
    panel = load_panel(data, params, fields=("close",), min_sessions={"momentum": warmup})
    close = panel["close"]
    formation = list(range(warmup, close.shape[0] - HORIZON, STEP))
    history = fundamentals_history(
        require(data, "fundamentals"), panel.symbols.tolist(), panel.dates[formation], panel.log
    )
    subscores = fundamental_subscores(history, close[formation])
    columns = [
        zscore_rows(np.stack([price_factor(f, close, t) for t in formation])) for f in PRICE_FACTORS
    ]
    columns += [fundamental_exposures(f, subscores) for f in FUNDAMENTAL_FACTORS]
    with np.errstate(invalid="ignore", divide="ignore"):
        forward = np.stack([close[t + HORIZON] / close[t] - 1.0 for t in formation])
    labels = forward - np.nanmean(forward, axis=1, keepdims=True)
    return Samples(
        features=np.stack(columns, axis=-1),
        labels=labels,
        dates=[d.date() for d in panel.dates[formation]],
    )


def fit(data: Samples, alpha: float = RIDGE_ALPHA) -> TrainedModel:
    """Ridge on the training dates (missing exposures = 0, the cross-sectional mean)."""
    n = len(data.dates)
    split = int(n * TRAIN_SHARE)
    gap = -(-HORIZON // STEP)  # formation dates whose label window reaches the test period
    train, test = slice(0, max(split - gap, 1)), slice(split, n)
    x, y = _rows(data.features[train], data.labels[train])
    mean_y = float(y.mean())
    weights = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ (y - mean_y))
    return TrainedModel(
        weights=weights,
        intercept=mean_y,
        train_dates=split - gap,
        test_dates=n - split,
        oos_ic=mean_rank_ic(data.features[test], data.labels[test], weights),
        in_sample_ic=mean_rank_ic(data.features[train], data.labels[train], weights),
    )


def _rows(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.nan_to_num(features.reshape(-1, features.shape[-1]), nan=0.0)
    y = labels.reshape(-1)
    known = np.isfinite(y)
    return x[known], y[known]


def mean_rank_ic(features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    ics = []
    for x, y in zip(features, labels, strict=True):
        prediction = np.nan_to_num(x, nan=0.0) @ weights
        known = np.isfinite(y)
        if known.sum() >= 3:
            ics.append(_spearman(prediction[known], y[known]))
    return float(np.nanmean(ics)) if ics else float("nan")


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def to_onnx(model: TrainedModel) -> Any:
    """``prediction = features @ weights + intercept`` as an ONNX graph (one float input)."""
    import onnx  # noqa: PLC0415 - training only (a dev dependency)
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    weights = model.weights.astype(np.float32).reshape(-1, 1)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "weights"], ["weighted"]),
            helper.make_node("Add", ["weighted", "intercept"], ["prediction"]),
        ],
        NAME,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, len(FEATURES)])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
        [
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(np.array([model.intercept], dtype=np.float32), "intercept"),
        ],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 9
    onnx.checker.check_model(onnx_model)
    return onnx_model


def save(model: TrainedModel, data: Samples, path: Path) -> Path:
    """The model directory in MLflow's format, with its signature and an input example."""
    import mlflow.onnx  # noqa: PLC0415 - training only (a dev dependency)
    import pandas as pd  # noqa: PLC0415
    from mlflow.models import ModelSignature  # noqa: PLC0415
    from mlflow.types import ColSpec, Schema  # noqa: PLC0415

    signature = ModelSignature(
        inputs=Schema([ColSpec("double", name) for name in FEATURES]),
        outputs=Schema([ColSpec("float", "prediction")]),
    )
    last = np.nan_to_num(data.features[-1][:3], nan=0.0)
    example = pd.DataFrame(last, columns=list(FEATURES))
    mlflow.onnx.save_model(
        to_onnx(model),
        str(path),
        signature=signature,
        input_example=example,
        pip_requirements=list(PIP_REQUIREMENTS),
    )
    return path


def lake_data() -> ScenarioData:
    from quantdesk.datalake.reader import load_scenario_data  # noqa: PLC0415 - reads S3

    data, _ = load_scenario_data(
        ["prices", "fundamentals"], universe=UNIVERSE, tickers=None, start=EARLIEST, end=None
    )
    return data


def train_and_register(out: Path | None = None, register: bool = True) -> str:
    """Train on the lake, save in MLflow's format, register as the champion; one line of
    figures."""
    data = samples(lake_data())
    model = fit(data)
    summary = (
        f"{NAME}: {model.train_dates} training / {model.test_dates} test months, "
        f"out-of-sample IC {model.oos_ic:+.3f} (in-sample {model.in_sample_ic:+.3f})"
    )
    with tempfile.TemporaryDirectory() as scratch:
        path = save(model, data, (out or Path(scratch)) / NAME)
        if register:
            from quantdesk.cli.models import read_directory  # noqa: PLC0415
            from quantdesk.predict.registry import ModelRegistry  # noqa: PLC0415
            from quantdesk.settings import get_settings  # noqa: PLC0415

            settings = get_settings()
            registry = ModelRegistry(settings.table_name, settings.data_bucket)
            record = registry.register(
                NAME, read_directory(path), "quantdesk.predict.returns_model"
            )
            registry.set_alias(NAME, ALIAS, record.version)
            summary += f"; registered version {record.version} as {ALIAS}"
    return summary


def ensure_champion() -> str:
    """``make up``: train and register the champion unless one is registered."""
    from quantdesk.predict.errors import UnknownModel  # noqa: PLC0415
    from quantdesk.predict.registry import ModelRegistry  # noqa: PLC0415
    from quantdesk.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    try:
        version = ModelRegistry(settings.table_name, settings.data_bucket).resolve(NAME, ALIAS)
    except UnknownModel:
        pass
    else:
        return f"model        {NAME} version {version} already registered as {ALIAS}"
    try:
        return f"model        {train_and_register()}"
    except Exception as exc:  # the product still starts; /predict then says no model (404)
        return f"model        {NAME} NOT registered ({type(exc).__name__}: {exc})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantdesk.predict.returns_model")
    parser.add_argument("--out", type=Path, help="also keep the MLflow model directory here")
    parser.add_argument(
        "--register", action="store_true", help="register it as the champion (local cloud)"
    )
    args = parser.parse_args(argv)
    print(train_and_register(args.out, register=args.register))
    return 0


if __name__ == "__main__":
    sys.exit(main())
