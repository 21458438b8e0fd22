"""Every registered scenario honours the contract: light spec, determinism, point-in-time."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from scenarios.base import ScenarioParams, ScenarioResult, ScenarioSpec
from scenarios.frames import SCHEMAS
from scenarios.registry import SCENARIO_IDS, get_spec, runner, specs

#: parameters that fit the synthetic history (320 sessions) and keep the suite fast
SMALL_PARAMS: dict[str, dict[str, object]] = {
    "trend_strength": {"adx_period": 5, "ma_window": 20, "slope_window": 5},
    "factor_tearsheet": {"evaluation_window": 100},
}
#: synthetic history long enough for default lookbacks, cut 60 sessions before its end
N_DAYS = 420
AS_OF = pd.bdate_range("2021-01-04", periods=N_DAYS)[-60]


def params_for(scenario_id: str, **extra: object) -> ScenarioParams:
    spec = get_spec(scenario_id)
    assert spec is not None
    return spec.params_model(**SMALL_PARAMS.get(scenario_id, {}), **extra)


def run(scenario_id: str, data, **extra: object) -> ScenarioResult:
    return runner(scenario_id)(data, params_for(scenario_id, **extra))


def test_specs_import_without_pandas() -> None:
    # Given a fresh interpreter; When every spec is loaded; Then pandas/numpy stay unloaded
    code = (
        "import sys; from scenarios.registry import specs; specs(); "
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_spec_is_complete(scenario_id: str) -> None:
    spec = specs()[scenario_id]
    assert spec.title and spec.description and spec.methodology
    assert len(spec.keywords) >= 12 and len(set(spec.keywords)) == len(spec.keywords)
    assert all(k == k.lower() for k in spec.keywords)
    assert spec.deliverables and "prices" in spec.datasets
    assert set(spec.datasets) <= set(SCHEMAS)
    assert spec.history_days > 0
    # sized by its own parameters, not the stand-in default
    assert spec.history is not ScenarioSpec.model_fields["history"].default
    schema = spec.inputs
    assert "universe" in schema["properties"]
    json.dumps(schema)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_result_is_clean_and_deterministic(scenario_id: str, make_data) -> None:
    # Given
    data = make_data(n_days=N_DAYS)
    # When run twice
    first = run(scenario_id, data)
    second = run(scenario_id, make_data(n_days=N_DAYS))
    # Then byte-identical, JSON-safe, and every claim points at a real cell
    assert first.model_dump_json() == second.model_dump_json()
    assert first.rows, "no rows"
    names = [c.name for c in first.columns]
    for row in first.rows:
        assert list(row) == names
        for value in row.values():
            assert not (isinstance(value, float) and not math.isfinite(value))
    # a claim's row is the row key: a symbol, or e.g. a sector / pair / horizon label
    keys = {v for r in first.rows for v in r.values() if isinstance(v, str)}
    assert first.narrative and first.summary
    for claim in first.narrative:
        assert claim.field is None or claim.field in names
        assert claim.row is None or claim.row in keys
    for series in first.series:
        for line in series.y.values():
            assert len(line) == len(series.x)
    assert "NaN" not in first.model_dump_json()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_poisoned_future_changes_nothing(scenario_id: str, make_data, poison) -> None:
    # Given data whose every observation after as_of is corrupted
    data = make_data(n_days=N_DAYS)
    # When
    clean = run(scenario_id, data, as_of=AS_OF.date()).model_dump_json()
    dirty = run(scenario_id, poison(data, AS_OF), as_of=AS_OF.date()).model_dump_json()
    # Then
    assert clean == dirty


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_ranks_are_a_permutation(scenario_id: str, make_data) -> None:
    result = run(scenario_id, make_data(n_days=N_DAYS))
    if "rank" not in result.rows[0]:
        pytest.skip("not a ranked table")
    ranks = [r["rank"] for r in result.rows if r["rank"] is not None]
    assert ranks == list(range(1, len(ranks) + 1))
