"""The shipped model: point-in-time samples, a time-ordered ridge fit, and the MLflow model it
logs serving exactly ``features @ weights + intercept``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.ingestion.sources.sample import END_DATE, SEED, generate
from quantdesk.predict import returns_model
from quantdesk.predict.registry import ModelRegistry
from scenarios.base import ScenarioData
from tests.unit.predict.conftest import files_of


@pytest.fixture(scope="module")
def lake_frames() -> dict[str, pd.DataFrame]:
    frames, _ = generate(SEED, END_DATE)
    return frames


def data_of(frames: dict[str, pd.DataFrame]) -> ScenarioData:
    return ScenarioData(prices=frames["prices"], fundamentals=frames["fundamentals"])


def test_features_at_a_date_do_not_see_later_prices_or_reports(
    lake_frames: dict[str, pd.DataFrame],
) -> None:
    before = returns_model.samples(data_of(lake_frames))
    cut = before.dates[len(before.dates) // 2]
    prices = lake_frames["prices"].copy()
    later = prices["date"] > pd.Timestamp(cut)
    prices.loc[later, "close"] *= np.linspace(0.5, 2.0, int(later.sum()))
    fundamentals = lake_frames["fundamentals"].copy()
    reported_later = fundamentals["report_date"] > pd.Timestamp(cut)
    fundamentals.loc[reported_later, "net_income"] *= -3.0
    after = returns_model.samples(ScenarioData(prices=prices, fundamentals=fundamentals))
    upto = before.dates.index(cut) + 1
    np.testing.assert_array_equal(before.features[:upto], after.features[:upto])
    # the labels of the last dates before the cut look forward, so they do change
    assert not np.array_equal(before.labels[:upto], after.labels[:upto], equal_nan=True)


def test_ridge_recovers_a_planted_signal_out_of_sample() -> None:
    rng = np.random.default_rng(3)
    dates, assets, features = 60, 80, len(returns_model.FEATURES)
    x = rng.normal(size=(dates, assets, features))
    true = np.linspace(-0.02, 0.02, features)
    y = x @ true + rng.normal(scale=0.01, size=(dates, assets))
    samples = returns_model.Samples(
        features=x,
        labels=y,
        dates=[dt.date(2020, 1, 1) + dt.timedelta(30 * i) for i in range(dates)],
    )
    model = returns_model.fit(samples, alpha=1.0)
    np.testing.assert_allclose(model.weights, true, atol=2e-3)
    assert model.oos_ic > 0.8
    assert model.train_dates + model.test_dates < dates  # the gap between them
    noise = returns_model.Samples(
        features=x, labels=rng.normal(size=(dates, assets)), dates=samples.dates
    )
    assert abs(returns_model.fit(noise).oos_ic) < 0.1


def test_the_logged_model_serves_features_times_weights(
    lake_frames: dict[str, pd.DataFrame],
    registry: ModelRegistry,
    predict_api: Any,
    tmp_path: Path,
) -> None:
    samples = returns_model.samples(data_of(lake_frames))
    model = returns_model.fit(samples)
    assert np.isfinite(model.oos_ic)
    path = returns_model.save(model, samples, tmp_path / "returns-ridge")
    example = json.loads((path / "serving_input_example.json").read_text())
    record = registry.register(returns_model.NAME, files_of(path), "test")
    registry.set_alias(returns_model.NAME, returns_model.ALIAS, record.version)
    # the client sends MLflow's own serving example unchanged
    response = predict_api.post(
        "/predict", body=json.dumps(example), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.body
    rows = np.asarray(example["dataframe_split"]["data"])
    want = rows @ model.weights + model.intercept
    got = [p["prediction"] for p in json.loads(response.body)["predictions"]]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
