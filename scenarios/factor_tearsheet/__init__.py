"""Factor tearsheet: IC, rank IC, quantile returns, spread and turnover by horizon."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days
from scenarios.lookbacks import PRICE_FACTOR_SESSIONS

#: kept equal to ``scenarios.factors.ALL_FACTORS`` (spelt out here: this module must not import
#: numpy); the JSON Schema publishes it as an enum
FactorName = Literal[
    "momentum_12_1",
    "momentum_6_1",
    "reversal_1m",
    "low_volatility",
    "trend_ma200",
    "value",
    "quality",
    "size",
]


class Params(ScenarioParams):
    """Inputs of ``factor_tearsheet`` (horizons and windows in trading sessions)."""

    factor: FactorName = Field(
        "momentum_12_1",
        description=(
            "Factor to evaluate: price factors (momentum_12_1, momentum_6_1, reversal_1m, "
            "low_volatility, trend_ma200) or fundamental factors rebuilt point-in-time at each "
            "formation date (value, quality, size; need fundamentals data)"
        ),
    )
    horizons: list[int] = Field(
        default_factory=lambda: [1, 5, 21],
        min_length=1,
        max_length=5,
        description="Forward-return horizons",
    )
    n_quantiles: int = Field(5, ge=2, le=10, description="Quantile buckets")
    evaluation_window: int = Field(
        252, ge=42, le=1260, description="Sessions of formation dates evaluated"
    )
    rebalance_every: int = Field(5, ge=1, le=63, description="Sessions between formation dates")

    @field_validator("horizons")
    @classmethod
    def _sorted_positive(cls, value: list[int]) -> list[int]:
        if any(h < 1 or h > 126 for h in value):
            raise ValueError("horizons must be between 1 and 126 sessions")
        return sorted(set(value))

    def sessions(self) -> int:
        """Sessions read: the factor's warm-up plus the evaluation window."""
        # fundamental factors read only the close at the formation date
        return PRICE_FACTOR_SESSIONS.get(self.factor, 1) + self.evaluation_window


SPEC = ScenarioSpec(
    scenario_id="factor_tearsheet",
    version="1.2.0",
    title="Factor tearsheet (IC, rank IC, quantile returns, turnover)",
    description=(
        "Evaluates how well a factor predicted returns: information coefficient and rank IC "
        "by horizon, their t-statistics and hit rates, mean forward returns per quantile, the "
        "top-minus-bottom spread and top-quantile turnover. Price factors (momentum, "
        "reversal, low volatility, trend) and fundamental factors (value, quality, size) "
        "rebuilt point-in-time at every formation date."
    ),
    keywords=(
        "factor tearsheet",
        "tearsheet",
        "tear sheet",
        "alphalens",
        "information coefficient",
        "ic",
        "rank ic",
        "spearman",
        "factor returns",
        "quantile returns",
        "long short spread",
        "top minus bottom",
        "turnover",
        "backtest",
        "signal decay",
        "alpha decay",
        "predictive power",
        "factor evaluation",
        "forward returns",
        "horizon",
        "hit rate",
        "value factor",
        "quality factor",
        "size factor",
        "fundamental factor",
        "point in time",
    ),
    deliverables=(
        "Table: one row per horizon with mean IC, IC t-stat, rank IC, hit rate, mean forward "
        "return per quantile, top-minus-bottom spread and turnover",
        "Charts: rank IC through time per horizon; mean return per quantile",
        "Narrative: whether the factor predicts returns, at which horizon, and at what turnover",
    ),
    methodology=(
        "Formation dates: every rebalance_every sessions over the last evaluation_window "
        "sessions, keeping only dates whose forward return ends on or before as_of (so no "
        "future data is used). Assets: at each date t, the universe's members on t (membership "
        "intervals; every member of the window is loaded, delisted and late-listed names "
        "included) that traded on t and have the factor's history; explicit tickers count at "
        "every date. Exposures use data up to t; forward return R_h = C[t+h] / C[t] - 1, a "
        "name that stopped trading held at its last price. Fundamental factors are rebuilt at "
        "every formation date t from the reports with report_date <= t (a restated quarter "
        "keeps its latest report known at t; balance-sheet items from the latest report, as "
        "reported (NaN stays NaN); net income summed over the last four quarters when they are "
        "consecutive, else NaN): market cap = C[t] x shares, shares put on the split-adjusted "
        "basis (x the ratio of every split after the report); value = "
        "mean of the cross-sectional winsorised (1%/99%) z-scores of book/market cap and TTM "
        "earnings/market cap; quality = mean z of TTM ROE (book > 0) and -debt/assets; size = "
        "z of -log(market cap) (small caps high). IC = Pearson correlation of exposure and R_h "
        "across assets; rank IC = Spearman (Pearson of ranks). mean IC, t = mean / (std / "
        "sqrt(n)); Newey-West t (ic_t_nw, rank_ic_t_nw) = mean / sqrt(lrv / n) with Bartlett "
        "weights over L = ceil(h / rebalance_every) - 1 lags (forward returns overlapping "
        "consecutive dates; equal to the naive t with ddof 0 when L = 0), hit rate = share of "
        "dates with IC > 0. Quantiles: equal-count buckets by "
        "exposure (1 = highest); q_k = mean R_h of bucket k averaged over dates; spread = q_1 - "
        "q_n. Turnover = average share of the top bucket replaced between consecutive "
        "formation dates."
    ),
    datasets=("prices", "fundamentals"),
    history=lambda p: sessions_to_days(p.sessions()),
    shard_shape="two_phase",
    params_model=Params,
)
