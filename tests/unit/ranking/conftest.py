"""Synthetic catalogues: the engine is tested against ScenarioSpec objects made here, so it does
not depend on which real scenarios are registered yet."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import Field

from quantdesk.ranking.engine import Catalogue
from scenarios.base import ScenarioParams, ScenarioSpec

TODAY = dt.date(2024, 5, 15)


class WindowParams(ScenarioParams):
    """Inputs with a lookback in trading sessions."""

    lookback: int = Field(63, ge=21, le=252, description="lookback in trading sessions")


class DaysParams(ScenarioParams):
    horizon_days: int = Field(30, ge=5, le=400, description="holding horizon in calendar days")
    risk_level: str = Field("medium", pattern="^(low|medium|high)$")


def make_spec(
    scenario_id: str,
    title: str,
    *,
    keywords: tuple[str, ...] = (),
    description: str = "A scenario.",
    deliverables: tuple[str, ...] = ("A table",),
    methodology: str = "",
    params_model: type[ScenarioParams] = ScenarioParams,
) -> ScenarioSpec:
    return ScenarioSpec(
        scenario_id=scenario_id,
        version="1.0.0",
        title=title,
        description=description,
        keywords=keywords,
        deliverables=deliverables,
        methodology=methodology,
        params_model=params_model,
    )


SYNTHETIC = (
    make_spec(
        "earnings_drift",
        "Post-earnings drift",
        keywords=("pead", "earnings surprise", "estimate revisions"),
        description="Ranks assets by their standardised earnings surprise and the drift after it.",
        deliverables=("Table of surprises", "Drift chart"),
        params_model=WindowParams,
    ),
    make_spec(
        "pairs",
        "Pairs trading with cointegration",
        keywords=("pairs trading", "cointegration", "stat arb", "spread", "hedge ratio"),
        description="Finds cointegrated pairs and the z-score of their spread.",
        params_model=DaysParams,
    ),
    make_spec(
        "vol_regime",
        "Volatility regimes",
        keywords=("volatility", "vix", "regime", "risk off", "calm"),
        description="Classifies each asset's realised volatility as calm, normal or stressed.",
    ),
    make_spec(
        "macro",
        "Macro sensitivity",
        keywords=("rates", "inflation", "dollar", "oil", "beta"),
        description="Estimates each asset's beta to interest rates, inflation, the dollar and oil.",
    ),
    make_spec(
        "breakouts",
        "Breakout scanner",
        keywords=("breakout", "52-week high", "donchian", "volume surge"),
        description="Finds assets breaking out to new highs on rising volume.",
    ),
    make_spec(
        "risk_flags",
        "Risk watchlist",
        keywords=("drawdown", "downside", "red flags", "leverage", "tail risk"),
        description="Flags assets with deep drawdowns, high leverage or fat tails.",
    ),
)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.from_specs(list(SYNTHETIC))
