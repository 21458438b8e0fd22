"""The catalogue of scenarios: specs (cheap, pydantic only) and their compute functions (lazy).

Adding a scenario: create ``scenarios/<id>/__init__.py`` (``Params``, ``SPEC``) and
``scenarios/<id>/compute.py`` (``run``), then add the id to ``SCENARIO_IDS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Final

from scenarios.base import ScenarioData, ScenarioParams, ScenarioResult, ScenarioSpec

SCENARIO_IDS: Final[tuple[str, ...]] = (
    "factor_ladder",
    "trend_strength",
    "earnings_momentum",
    "mean_reversion",
    "volatility_regime",
    "sentiment_blend",
    "macro_sensitivity",
    "sector_rotation",
    "pairs_cointegration",
    "risk_watchlist",
    "factor_tearsheet",
    "breakout_scanner",
)

Runner = Callable[[ScenarioData, ScenarioParams], ScenarioResult]


@cache
def specs() -> dict[str, ScenarioSpec]:
    """All scenario specs by id, in catalogue order."""
    loaded = {}
    for scenario_id in SCENARIO_IDS:
        spec = importlib.import_module(f"scenarios.{scenario_id}").SPEC
        if spec.scenario_id != scenario_id:
            raise RuntimeError(f"scenarios.{scenario_id} registers {spec.scenario_id!r}")
        loaded[scenario_id] = spec
    return loaded


def get_spec(scenario_id: str) -> ScenarioSpec | None:
    return specs().get(scenario_id)


def runner(scenario_id: str) -> Runner:
    """The compute function of a scenario (imports pandas/numpy on first use)."""
    if scenario_id not in specs():
        raise KeyError(scenario_id)
    run: Runner = importlib.import_module(f"scenarios.{scenario_id}.compute").run
    return run
