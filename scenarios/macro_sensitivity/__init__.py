"""Macro sensitivity: rolling betas of each asset to rates, inflation, USD and oil."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days


class Params(ScenarioParams):
    """Inputs of ``macro_sensitivity`` (windows in trading sessions)."""

    window: int = Field(252, ge=63, le=756, description="Regression window")
    rate_series: Literal["rate_10y", "rate_2y", "rate_3m"] = Field(
        "rate_10y", description="Interest-rate series used as the rates factor"
    )
    step: int = Field(21, ge=5, le=63, description="Sessions between rolling-beta chart points")
    chart_points: int = Field(12, ge=2, le=36, description="Rolling-beta points charted")
    top_n: int = Field(5, ge=1, le=20, description="Assets featured in the charts")


SPEC = ScenarioSpec(
    scenario_id="macro_sensitivity",
    version="1.1.0",
    title="Macro sensitivity (betas to rates, inflation, USD and oil)",
    description=(
        "Regresses each asset's daily returns on changes in interest rates, inflation, the US "
        "dollar and oil over a rolling window, reporting multivariate betas, t-statistics, "
        "explained variance and how the exposures moved over time."
    ),
    keywords=(
        "macro",
        "macro sensitivity",
        "macroeconomic",
        "interest rates",
        "rates",
        "yields",
        "bond yields",
        "10 year",
        "duration",
        "rate sensitivity",
        "inflation",
        "cpi",
        "dollar",
        "usd",
        "fx",
        "currency",
        "oil",
        "crude",
        "commodities",
        "beta",
        "factor exposure",
        "regression",
        "rolling beta",
        "hedging",
        "fed",
    ),
    deliverables=(
        "Table: one row per asset with betas and t-statistics to rates, inflation, USD and oil, "
        "R-squared, dominant factor and rank (most macro-sensitive first)",
        "Charts: rolling rate beta of the most sensitive names; average betas",
        "Narrative: which assets are most exposed to each macro factor",
    ),
    methodology=(
        "Macro series are aligned to trading dates by release, never by reference period: on "
        "each date a series' level is the value of the latest period released by then "
        "(release_date <= date; nothing released after as_of), so CPI moves on its "
        "publication day, not on the first of the month it describes. Factor changes: rates "
        "and inflation = first differences of the level; usd and oil = log changes. Asset "
        "returns r = log(C[t] / C[t-1]). Over the last `window` sessions, OLS r = a + b_rates "
        "d_rates + b_inflation d_inflation + b_usd d_usd + b_oil d_oil + e, solved for all "
        "assets at once; t = b / se(b) with se from s^2 (X'X)^-1, s^2 = RSS / (n - 5). "
        "R-squared = 1 - RSS / TSS. Dominant factor = largest |t|. A factor that does not "
        "move over the window (a rate pinned at zero) is left out of the fit: its beta and t "
        "are empty and the data quality notes it. Rolling betas repeat the fit on windows "
        "ending every `step` sessions. Rank 1 = highest R-squared."
    ),
    datasets=("prices", "macro"),
    # the rolling-beta chart reaches back (chart_points - 1) steps; a month more of macro
    # history carries the last monthly print into the first session
    history=lambda p: sessions_to_days(p.window + p.step * (p.chart_points - 1) + 1) + 31,
    shard_shape="two_phase",
    params_model=Params,
)
