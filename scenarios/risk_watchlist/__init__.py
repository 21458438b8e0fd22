"""Risk watchlist: drawdown, beta, historical VaR / CVaR and flagged names."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days


class Params(ScenarioParams):
    """Inputs of ``risk_watchlist`` (windows in trading sessions)."""

    window: int = Field(252, ge=63, le=1260, description="Estimation window")
    confidence: float = Field(0.95, ge=0.8, le=0.995, description="VaR / CVaR confidence")
    benchmark: str | None = Field(
        None, description="Ticker used as the market for beta; default: equal-weight universe"
    )
    drawdown_flag: float = Field(
        0.2, gt=0.0, le=0.9, description="Flag when the current drawdown exceeds this"
    )
    var_flag: float = Field(0.04, gt=0.0, le=0.5, description="Flag when daily VaR exceeds this")
    beta_flag: float = Field(1.5, gt=0.0, le=5.0, description="Flag when beta exceeds this")
    top_n: int = Field(5, ge=1, le=20, description="Assets featured in the charts")


SPEC = ScenarioSpec(
    scenario_id="risk_watchlist",
    version="1.1.0",
    title="Risk watchlist (drawdown, beta, historical VaR and CVaR)",
    description=(
        "Flags the riskiest names: current and maximum drawdown, beta to the market, realised "
        "volatility, and one-day historical Value-at-Risk and Expected Shortfall (CVaR)."
    ),
    keywords=(
        "risk",
        "risk watchlist",
        "risky stocks",
        "drawdown",
        "max drawdown",
        "maximum drawdown",
        "peak to trough",
        "beta",
        "market beta",
        "var",
        "value at risk",
        "cvar",
        "expected shortfall",
        "tail risk",
        "downside risk",
        "historical simulation",
        "losses",
        "crash",
        "volatility",
        "risk management",
        "red flags",
        "warning",
    ),
    deliverables=(
        "Watchlist table: one row per asset with current and maximum drawdown, beta, "
        "volatility, VaR, CVaR, flags, risk score and rank (riskiest first)",
        "Charts: drawdown paths of the riskiest names; VaR and CVaR bars",
        "Narrative: how many names are flagged and why, with the numbers",
    ),
    methodology=(
        "Over the last `window` sessions: r = C[t] / C[t-1] - 1; drawdown[t] = C[t] / max(C up to "
        "t) - 1, the max starting at the close before the window's first return (so a fall on "
        "the first session counts); current_drawdown = drawdown at as_of, max_drawdown = min "
        "over the window. "
        "beta = cov(r, m) / var(m) with m the benchmark's return (default: the equal-weight mean "
        "return of the selected assets). VaR = -quantile(r, 1 - confidence) (linear "
        "interpolation); CVaR = -mean(r | r <= -VaR). volatility = std(r, ddof 1) x sqrt(252). "
        "Flags: drawdown beyond drawdown_flag, VaR above var_flag, beta above beta_flag. Risk "
        "score = mean of winsorised z-scores of -current_drawdown, -max_drawdown, beta, VaR, "
        "CVaR and volatility; rank 1 = riskiest."
    ),
    datasets=("prices",),
    history=lambda p: sessions_to_days(p.window + 1),
    shard_shape="two_phase",
    params_model=Params,
)
