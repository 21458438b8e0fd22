"""Volatility regime: realised and EWMA volatility, percentile regimes and vol-of-vol."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days, warmup_sessions


class Params(ScenarioParams):
    """Inputs of ``volatility_regime`` (windows in trading sessions)."""

    vol_window: int = Field(21, ge=5, le=126, description="Realised volatility window")
    ewma_lambda: float = Field(
        0.94, ge=0.8, le=0.995, description="EWMA decay (RiskMetrics uses 0.94)"
    )
    regime_lookback: int = Field(
        252, ge=63, le=1260, description="History over which today's vol is ranked"
    )
    vov_window: int = Field(63, ge=10, le=252, description="Window of the vol-of-vol")
    low_percentile: float = Field(25.0, ge=1.0, le=49.0, description="Below: calm regime")
    high_percentile: float = Field(75.0, ge=51.0, le=99.0, description="Above: stressed")
    top_n: int = Field(5, ge=1, le=20, description="Assets featured in the charts")

    @model_validator(mode="after")
    def _windows_fit(self) -> Self:
        if self.vol_window >= self.regime_lookback:
            raise ValueError("vol_window must be shorter than regime_lookback")
        return self

    def needs(self) -> dict[str, int]:
        """Sessions each input needs up to as_of."""
        return {
            "vol_window": self.vol_window + 1,
            "vov_window": self.vov_window + self.vol_window,
            "regime_lookback": self.regime_lookback + self.vol_window,
        }

    def sessions(self) -> int:
        """Sessions read: the ranked history plus the EWMA's warm-up."""
        return self.regime_lookback + self.vol_window + warmup_sessions(self.ewma_lambda)


SPEC = ScenarioSpec(
    scenario_id="volatility_regime",
    version="1.1.0",
    title="Volatility regimes (realised, EWMA, percentile, vol-of-vol)",
    description=(
        "Measures each asset's realised and EWMA (RiskMetrics) volatility, ranks today's level "
        "against its own past year to classify calm / normal / stressed regimes, and reports "
        "volatility of volatility and the direction vol is moving."
    ),
    keywords=(
        "volatility",
        "vol",
        "realized volatility",
        "realised volatility",
        "historical volatility",
        "ewma",
        "riskmetrics",
        "exponentially weighted",
        "garch-like",
        "regime",
        "volatility regime",
        "high volatility",
        "low volatility",
        "calm",
        "stress",
        "turbulence",
        "vol of vol",
        "vol-of-vol",
        "volatility clustering",
        "percentile",
        "risk-on",
        "risk-off",
        "vix-like",
        "choppy",
        "annualized volatility",
        "standard deviation",
    ),
    deliverables=(
        "Table: one row per asset with realised vol, EWMA vol, percentile vs own history, "
        "regime, vol-of-vol, one-month change in vol and rank (most stressed first)",
        "Charts: cross-sectional median realised vol over time; realised vol of the most "
        "stressed names",
        "Narrative: the market-wide regime, the most and least volatile names",
    ),
    methodology=(
        "r = log(C[t] / C[t-1]). realized_vol = std(r over the last vol_window sessions, ddof 1) "
        "x sqrt(252). EWMA variance s2[t] = lambda s2[t-1] + (1 - lambda) r[t]^2, seeded with the "
        "mean of the first vol_window squared returns; ewma_vol = sqrt(252 s2). "
        "vol_percentile = mid-rank of today's realised vol among the values of the last "
        "regime_lookback sessions, in percent: 100 x (values below + (ties + 1) / 2) / count "
        "(the share <= today's when today's is unique; 50 for an asset that never moves). "
        "Regime: calm below low_percentile, stressed above "
        "high_percentile, normal otherwise. vol_of_vol = std / mean of the daily realised vol "
        "over the last vov_window sessions. vol_change = realized_vol / realized_vol 21 "
        "sessions earlier - 1. Rank 1 = highest vol_percentile (ties by realised vol, symbol). "
        "History read: regime_lookback + vol_window sessions plus an EWMA warm-up of "
        "ceil(ln 1e-9 / ln lambda) sessions."
    ),
    datasets=("prices",),
    history=lambda p: sessions_to_days(p.sessions()),
    shard_shape="per_asset",
    params_model=Params,
)
