"""Breakout scanner: 52-week highs and Donchian channel breakouts confirmed by volume."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days


class Params(ScenarioParams):
    """Inputs of ``breakout_scanner`` (windows in trading sessions)."""

    high_window: int = Field(252, ge=63, le=504, description="Window of the 52-week high")
    donchian_window: int = Field(20, ge=5, le=120, description="Donchian channel window")
    volume_window: int = Field(50, ge=5, le=252, description="Average-volume window")
    volume_multiple: float = Field(
        1.5, ge=1.0, le=10.0, description="Volume / average volume needed to confirm"
    )
    near_high_pct: float = Field(
        0.02, ge=0.0, le=0.2, description="Within this fraction of the high counts as at a high"
    )
    top_n: int = Field(10, ge=1, le=50, description="Assets featured in the charts")


SPEC = ScenarioSpec(
    scenario_id="breakout_scanner",
    version="1.0.0",
    title="Breakout scanner (52-week highs, Donchian channels, volume confirmation)",
    description=(
        "Scans for assets breaking out: new or near 52-week highs, closes above the prior "
        "Donchian channel (or below it for breakdowns), confirmed by volume well above its "
        "average."
    ),
    keywords=(
        "breakout",
        "breakouts",
        "breakdown",
        "52 week high",
        "52-week high",
        "new highs",
        "all time high",
        "donchian",
        "channel breakout",
        "turtle",
        "price channel",
        "resistance",
        "support",
        "volume confirmation",
        "volume surge",
        "unusual volume",
        "relative volume",
        "high volume",
        "scanner",
        "screen",
        "technical analysis",
        "momentum breakout",
    ),
    deliverables=(
        "Scan table: one row per asset with distance from the 52-week high, Donchian channel, "
        "breakout direction, volume ratio, confirmation and rank",
        "Charts: distance from the 52-week high and volume ratio of the top names",
        "Narrative: confirmed breakouts and breakdowns with their numbers",
    ),
    methodology=(
        "high_52w = max(high over the last high_window sessions, today included); "
        "pct_from_high = C / high_52w - 1; at_high = pct_from_high >= -near_high_pct. Donchian "
        "channel = max(high) / min(low) over the donchian_window sessions before today; "
        "breakout = up if C > channel high, down if C < channel low. volume_ratio = V / mean(V "
        "over the volume_window sessions before today); confirmed = breakout and volume_ratio >= "
        "volume_multiple. Score = mean of winsorised z-scores of pct_from_high, volume_ratio and "
        "the close's position in the channel ((C - low) / (high - low)), plus 1 for a confirmed "
        "upside breakout and minus 1 for a confirmed breakdown; rank 1 = strongest breakout."
    ),
    datasets=("prices",),
    history=lambda p: sessions_to_days(max(p.high_window, p.donchian_window, p.volume_window) + 1),
    shard_shape="per_asset",
    params_model=Params,
)
