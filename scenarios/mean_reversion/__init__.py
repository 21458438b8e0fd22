"""Mean reversion: RSI(14), RSI(2), short-term reversal and Bollinger %b, ranked."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days, warmup_sessions


class Params(ScenarioParams):
    """Inputs of ``mean_reversion`` (lookbacks in trading sessions)."""

    rsi_period: int = Field(14, ge=2, le=50, description="Period of the main RSI (Wilder)")
    rsi_short_period: int = Field(2, ge=2, le=10, description="Period of the short RSI")
    reversal_days: int = Field(5, ge=1, le=21, description="Short-term reversal window")
    bollinger_window: int = Field(20, ge=5, le=100, description="Bollinger band window")
    bollinger_width: float = Field(2.0, ge=0.5, le=4.0, description="Band width in std devs")
    oversold: float = Field(30.0, ge=5.0, le=50.0, description="RSI level counted oversold")
    overbought: float = Field(70.0, ge=50.0, le=95.0, description="RSI level counted overbought")
    top_n: int = Field(5, ge=1, le=20, description="Assets featured in the charts")

    @model_validator(mode="after")
    def _ordered_levels(self) -> Self:
        if self.oversold >= self.overbought:
            raise ValueError("oversold must be below overbought")
        return self

    def needs(self) -> dict[str, int]:
        """Sessions each input needs up to as_of."""
        return {
            "rsi_period": self.rsi_period + 1,
            "bollinger_window": self.bollinger_window,
            "reversal_days": self.reversal_days + 1,
        }

    def sessions(self) -> int:
        """Sessions read: the longest need plus the Wilder RSI's warm-up."""
        decay = 1.0 - 1.0 / max(self.rsi_period, self.rsi_short_period)
        return max(self.needs().values()) + warmup_sessions(decay)


SPEC = ScenarioSpec(
    scenario_id="mean_reversion",
    version="1.1.0",
    title="Mean-reversion screen (RSI, RSI(2), reversal, Bollinger %b)",
    description=(
        "Finds oversold and overbought assets likely to snap back: Wilder's RSI(14) and "
        "Connors-style RSI(2), the short-term (one-week) reversal and the position inside the "
        "Bollinger bands, combined into a cross-sectional oversold score."
    ),
    keywords=(
        "mean reversion",
        "reversion",
        "oversold",
        "overbought",
        "rsi",
        "relative strength index",
        "rsi(2)",
        "rsi 2",
        "connors",
        "wilder",
        "bollinger",
        "bollinger bands",
        "%b",
        "percent b",
        "short-term reversal",
        "reversal",
        "pullback",
        "dip",
        "buy the dip",
        "bounce",
        "snap back",
        "stretched",
        "contrarian",
        "counter-trend",
        "overextended",
        "swing trading",
        "technical analysis",
    ),
    deliverables=(
        "Screen table: one row per asset with RSI(14), RSI(2), short-term return, Bollinger %b, "
        "signal (oversold / overbought / neutral), oversold score and rank",
        "Charts: RSI(14) of the most oversold names over six months; %b of the leaders",
        "Narrative: how many assets are oversold or overbought and the most extreme names",
    ),
    methodology=(
        "RSI(n) = 100 avg_gain / (avg_gain + avg_loss) with Wilder averages of daily gains and "
        "losses (a[t] = a[t-1] + (x[t] - a[t-1]) / n, seeded with the simple mean of the first n "
        "changes; TA-Lib convention), n = rsi_period (rsi) and rsi_short_period (rsi_2); 50 "
        "(neutral) for a price that did not move at all (TA-Lib prints 0). "
        "reversal = C[t] / C[t - reversal_days] - 1. Bollinger: middle = mean of the last "
        "bollinger_window closes, bands = middle +- bollinger_width x population std; "
        "percent_b = (C - lower) / (upper - lower). Signal: oversold if RSI(14) <= oversold or "
        "RSI(2) <= 10 with %b < 0; overbought if RSI(14) >= overbought or RSI(2) >= 90 with "
        "%b > 1. Score = mean of winsorised (1%/99%) cross-sectional z-scores of -RSI(14), "
        "-RSI(2), -reversal and -%b: rank 1 = most oversold (a long candidate). Only the last "
        "sessions the lookbacks need plus a Wilder warm-up (seed weight < 1e-9) are read, and the "
        "worker loads that many (so the RSI equals its full-history value)."
    ),
    datasets=("prices",),
    history=lambda p: sessions_to_days(p.sessions()),
    alert_thresholds=(("rsi", "oversold"), ("rsi", "overbought")),
    shard_shape="per_asset",
    params_model=Params,
)
