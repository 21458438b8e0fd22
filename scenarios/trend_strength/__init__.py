"""Trend strength: ADX, moving-average slope and distance, and 12-1 momentum, ranked."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days, warmup_sessions


class Params(ScenarioParams):
    """Inputs of ``trend_strength`` (lookbacks in trading sessions)."""

    adx_period: int = Field(14, ge=5, le=50, description="ADX / DI period (Wilder)")
    ma_window: int = Field(200, ge=20, le=250, description="Moving-average window")
    slope_window: int = Field(
        20, ge=5, le=63, description="Sessions over which the moving-average slope is measured"
    )
    momentum_lookback: int = Field(
        252, ge=63, le=504, description="Momentum formation period (12 months = 252)"
    )
    momentum_skip: int = Field(
        21, ge=0, le=63, description="Most recent sessions skipped by momentum (1 month = 21)"
    )
    adx_threshold: float = Field(
        25.0, ge=10.0, le=60.0, description="ADX level above which an asset counts as trending"
    )
    top_n: int = Field(5, ge=1, le=20, description="Assets featured in the charts")

    @model_validator(mode="after")
    def _skip_inside_lookback(self) -> Self:
        if self.momentum_skip >= self.momentum_lookback:
            raise ValueError("momentum_skip must be shorter than momentum_lookback")
        return self

    def needs(self) -> dict[str, int]:
        """Sessions each input needs up to as_of."""
        return {
            "momentum_lookback": self.momentum_lookback + 1,
            "ma_window": self.ma_window + self.slope_window,
            "adx_period": 2 * self.adx_period,
        }

    def sessions(self) -> int:
        """Sessions read: the longest need plus the Wilder ADX's warm-up."""
        return max(self.needs().values()) + warmup_sessions(1.0 - 1.0 / self.adx_period)


SPEC = ScenarioSpec(
    scenario_id="trend_strength",
    version="1.0.0",
    title="Trend strength watchlist (ADX, moving averages, 12-1 momentum)",
    description=(
        "Ranks assets by how strongly and persistently they trend: Wilder's ADX with +DI/-DI "
        "direction, the slope of and distance from a long moving average, and 12-1 month "
        "time-series momentum, combined into one cross-sectional score."
    ),
    keywords=(
        "trend",
        "trend strength",
        "trend following",
        "trending stocks",
        "adx",
        "average directional index",
        "directional movement",
        "dmi",
        "+di",
        "-di",
        "wilder",
        "moving average",
        "200 day moving average",
        "200-day",
        "sma",
        "ma slope",
        "golden cross",
        "above moving average",
        "momentum",
        "12-1 momentum",
        "12 month momentum",
        "time series momentum",
        "tsmom",
        "uptrend",
        "downtrend",
        "strong trend",
        "persistent",
        "watchlist",
        "technical analysis",
        "cta",
        "managed futures style",
    ),
    deliverables=(
        "Watchlist table: one row per asset with ADX, +DI, -DI, MA slope, distance from MA, "
        "12-1 momentum, composite score and rank",
        "Charts: composite score of the leaders; ADX and distance from MA over the last 6 months",
        "Narrative: how many assets trend, leaders and laggards, with the numbers behind them",
    ),
    methodology=(
        "TR = max(H, C[-1]) - min(L, C[-1]); +DM = H - H[-1] if it exceeds L[-1] - L and is > 0, "
        "else 0 (-DM symmetric). Wilder sums S(x)[t] = S[t-1] - S[t-1]/n + x[t], seeded with the "
        "sum of the first n-1 values (TA-Lib convention). +DI = 100 S(+DM)/S(TR), -DI = 100 "
        "S(-DM)/S(TR), DX = 100 |+DI - -DI| / (+DI + -DI), ADX = Wilder average of DX (seeded "
        "with the mean of the first n DX), n = adx_period. MA = simple mean of the last ma_window "
        "closes; ma_slope = MA[t] / MA[t - slope_window] - 1; ma_distance = C / MA - 1; "
        "momentum_12_1 = C[t - momentum_skip] / C[t - momentum_lookback] - 1. Score = mean of the "
        "cross-sectional winsorised (1%/99%) z-scores of momentum_12_1, ma_slope, ma_distance and "
        "signed ADX (ADX x sign(+DI - -DI)); rank 1 = highest score, ties broken by symbol. "
        "Trending = ADX >= adx_threshold. Everything uses data up to as_of only, restricted to "
        "the sessions the longest lookback needs plus a Wilder warm-up of ceil(ln 1e-9 / ln(1 "
        "- 1/n)) sessions, so the seed's weight is below 1e-9 and results do not depend on how "
        "much older history is supplied."
    ),
    datasets=("prices",),
    history=lambda p: sessions_to_days(p.sessions()),
    alert_thresholds=(("adx", "adx_threshold"),),
    shard_shape="per_asset",
    params_model=Params,
)
