"""Each scenario reads the history its parameters need, warm-up included: a run on exactly that
window equals the run on the whole history, for the defaults and the longest allowed values."""

from __future__ import annotations

from typing import Any

import pytest

from scenarios.base import ScenarioData
from scenarios.history import history_window
from scenarios.registry import SCENARIO_IDS, get_spec, runner
from tests.unit.scenarios.conftest import synthetic_data

CASES: list[tuple[str, dict[str, Any]]] = [
    *[(scenario_id, {}) for scenario_id in SCENARIO_IDS],
    ("earnings_momentum", {"sue_history": 8, "min_history": 8}),
    ("earnings_momentum", {"sue_history": 20}),
    ("mean_reversion", {"rsi_period": 30}),
    ("mean_reversion", {"rsi_period": 50}),
    ("trend_strength", {"momentum_lookback": 504}),
    ("risk_watchlist", {"window": 1260}),
    ("volatility_regime", {"regime_lookback": 1260}),
    ("factor_tearsheet", {"evaluation_window": 504, "horizons": [21, 63]}),
    ("factor_tearsheet", {"factor": "value", "evaluation_window": 252}),
    ("pairs_cointegration", {"window": 756, "same_sector": False}),
    ("macro_sensitivity", {"window": 756, "step": 63, "chart_points": 12}),
]


@pytest.fixture(scope="module")
def long_data() -> ScenarioData:
    return synthetic_data(n_assets=8, n_days=3200, seed=21)


def _outcome(data: ScenarioData, scenario_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    spec = get_spec(scenario_id)
    assert spec is not None
    result = runner(scenario_id)(data, spec.params_model(**raw)).model_dump(mode="json")
    return {k: result[k] for k in ("as_of", "rows", "series", "narrative")}


@pytest.mark.parametrize(("scenario_id", "raw"), CASES, ids=str)
def test_the_history_window_gives_the_full_history_result(
    long_data: ScenarioData, scenario_id: str, raw: dict[str, Any]
) -> None:
    spec = get_spec(scenario_id)
    assert spec is not None
    window = history_window(long_data, spec, spec.params_model(**raw))
    assert len(window.prices) < len(long_data.prices)  # the cut does drop old rows
    assert _outcome(window, scenario_id, raw) == _outcome(long_data, scenario_id, raw)


def test_the_earnings_window_holds_the_surprises_sue_needs(long_data: ScenarioData) -> None:
    # 8 past surprises plus the latest: nine reports for every symbol
    spec = get_spec("earnings_momentum")
    assert spec is not None
    window = history_window(long_data, spec, spec.params_model(sue_history=8))
    assert window.earnings is not None
    as_of = long_data.prices["date"].max()
    known = window.earnings[window.earnings["report_date"] <= as_of]
    assert known.groupby("symbol").size().min() >= 9
