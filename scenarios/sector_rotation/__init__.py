"""Sector rotation: relative strength of sectors and their leading stocks."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days


class Params(ScenarioParams):
    """Inputs of ``sector_rotation`` (windows in trading sessions)."""

    short_window: int = Field(21, ge=5, le=63, description="Short relative-strength window")
    medium_window: int = Field(63, ge=21, le=126, description="Medium window")
    long_window: int = Field(126, ge=63, le=252, description="Long window")
    min_members: int = Field(2, ge=1, le=20, description="Sectors with fewer assets are skipped")


SPEC = ScenarioSpec(
    scenario_id="sector_rotation",
    version="1.1.0",
    title="Sector rotation (relative strength of sectors and their leaders)",
    description=(
        "Builds equal-weight sector indices from their members, measures each sector's return "
        "relative to the whole selection over one, three and six months, ranks the sectors and "
        "names the strongest stock in each."
    ),
    keywords=(
        "sector rotation",
        "sectors",
        "sector",
        "industry",
        "industries",
        "gics",
        "relative strength",
        "rs",
        "leading sectors",
        "lagging sectors",
        "sector leaders",
        "sector momentum",
        "rotation",
        "defensive",
        "cyclical",
        "risk appetite",
        "market breadth",
        "outperform",
        "underperform",
        "top-down",
        "allocation",
    ),
    deliverables=(
        "Sector table: one row per sector with member count, 1/3/6-month returns, relative "
        "strength versus the selection, score, rank and leading stock",
        "Charts: cumulative return of each sector index over the long window",
        "Narrative: leading and lagging sectors and their strongest names",
    ),
    methodology=(
        "Sector index daily return = equal-weight mean of its members' simple returns (members "
        "from the sectors dataset). Window return R_w = product(1 + r) - 1 over the last w "
        "sessions for w in short/medium/long windows; relative strength RS_w = R_w(sector) - "
        "R_w(all selected assets, equal weight). Score = mean of cross-sectional z-scores of "
        "RS_short, RS_medium and RS_long across sectors (not winsorised: few rows); rank 1 = "
        "strongest. Leader = member with the highest medium-window return (ties by symbol)."
    ),
    datasets=("prices", "sectors"),
    history=lambda p: sessions_to_days(p.long_window + 1),
    shard_shape="two_phase",
    params_model=Params,
)
