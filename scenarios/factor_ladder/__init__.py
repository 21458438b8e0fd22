"""Factor ladder: value, quality, momentum, low-vol and size z-scores, composite, quintiles."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days
from scenarios.lookbacks import PRICE_FACTOR_SESSIONS


class Params(ScenarioParams):
    """Inputs of ``factor_ladder``: factor weights in the composite and the ladder shape."""

    weight_value: float = Field(1.0, ge=0.0, le=5.0, description="Weight of value")
    weight_quality: float = Field(1.0, ge=0.0, le=5.0, description="Weight of quality")
    weight_momentum: float = Field(1.0, ge=0.0, le=5.0, description="Weight of momentum")
    weight_low_volatility: float = Field(
        1.0, ge=0.0, le=5.0, description="Weight of low volatility"
    )
    weight_size: float = Field(0.0, ge=0.0, le=5.0, description="Weight of size (small = high)")
    sector_neutral: bool = Field(False, description="Standardise factors within each sector")
    n_buckets: int = Field(5, ge=2, le=10, description="Ladder buckets (5 = quintiles)")
    winsor_limit: float = Field(
        0.01, ge=0.0, le=0.1, description="Tail fraction clipped before standardising"
    )


SPEC = ScenarioSpec(
    scenario_id="factor_ladder",
    version="1.1.0",
    title="Multi-factor ladder (value, quality, momentum, low volatility, size)",
    description=(
        "Scores every asset on the classic equity factors with winsorised cross-sectional "
        "z-scores, optionally sector-neutral, blends them into a weighted composite and sorts "
        "the universe into a quintile ladder."
    ),
    keywords=(
        "factor",
        "factors",
        "multi-factor",
        "multifactor",
        "factor model",
        "smart beta",
        "value",
        "cheap stocks",
        "book to price",
        "earnings yield",
        "quality",
        "roe",
        "profitability",
        "leverage",
        "momentum",
        "low volatility",
        "low vol",
        "min vol",
        "size",
        "small cap",
        "z-score",
        "quintile",
        "ladder",
        "composite score",
        "sector neutral",
        "screen",
        "ranking",
    ),
    deliverables=(
        "Ladder table: one row per asset with value, quality, momentum, low-volatility and size "
        "z-scores, composite, bucket and rank",
        "Charts: average factor z-scores per bucket; composite of the top names",
        "Narrative: best and worst names and which factors drive them",
    ),
    methodology=(
        "Fundamentals are taken point-in-time: the latest report with report_date <= as_of, "
        "as reported (an item missing there stays missing, never an older quarter's); flows "
        "(net income) are the sum of the last four quarters when they are consecutive (NaN "
        "otherwise). Market cap = split-adjusted close x shares_outstanding put on the same "
        "basis (x the ratio of every split after the report). value = mean z(book_equity / "
        "market cap, TTM net income / market "
        "cap); quality = mean z(TTM net income / book_equity, -total_debt / total_assets); "
        "momentum = C[t-21] / C[t-252] - 1; low_volatility = -std(daily returns, 126 sessions) "
        "x sqrt(252); size = -log(market cap). Each raw factor is winsorised at winsor_limit / "
        "1 - winsor_limit quantiles and standardised (mean 0, std 1) across assets, within "
        "sectors when sector_neutral. composite = weighted mean of the available factor "
        "z-scores (missing factors are skipped, not zero-filled). Buckets: equal-count by "
        "composite rank, 1 = best; rank 1 = highest composite, ties by symbol."
    ),
    datasets=("prices", "fundamentals", "sectors"),
    history=lambda p: sessions_to_days(PRICE_FACTOR_SESSIONS["momentum_12_1"]),
    shard_shape="per_asset",
    params_model=Params,
)
