"""Earnings momentum: standardised unexpected earnings and post-earnings drift."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, reports_to_days

#: reports back to the estimate the revision proxy compares with
REVISION_LAG = 4


class Params(ScenarioParams):
    """Inputs of ``earnings_momentum``."""

    sue_history: int = Field(
        8, ge=3, le=20, description="Past surprises used to scale the latest one"
    )
    min_history: int = Field(3, ge=2, le=20, description="Fewest past surprises for a SUE")
    drift_window: int = Field(
        60, ge=5, le=120, description="Sessions after the report over which drift is measured"
    )
    max_report_age: int = Field(
        95, ge=10, le=400, description="Calendar days after which a report counts as stale"
    )
    top_n: int = Field(10, ge=1, le=50, description="Assets featured in the charts")


SPEC = ScenarioSpec(
    scenario_id="earnings_momentum",
    version="1.1.0",
    title="Earnings momentum (SUE, post-earnings drift, estimate revisions)",
    description=(
        "Scores each asset's latest earnings surprise against its own surprise history "
        "(standardised unexpected earnings), measures the post-earnings announcement drift "
        "since the report, and adds an estimate-revision proxy."
    ),
    keywords=(
        "earnings",
        "earnings momentum",
        "earnings surprise",
        "surprise",
        "sue",
        "standardized unexpected earnings",
        "standardised unexpected earnings",
        "post earnings announcement drift",
        "pead",
        "earnings drift",
        "beat",
        "miss",
        "eps",
        "eps estimate",
        "consensus",
        "estimate revisions",
        "revisions",
        "guidance",
        "earnings season",
        "quarterly results",
        "fundamental momentum",
    ),
    deliverables=(
        "Table: one row per asset with the latest report date, EPS surprise, SUE, drift since "
        "the report (raw and vs the selection), revision proxy, score and rank",
        "Charts: SUE of the top names; average drift by SUE tercile",
        "Narrative: biggest beats and misses and whether prices drifted with them",
    ),
    methodology=(
        "Only announcements with report_date <= as_of are used. surprise = eps_actual - "
        "eps_estimate; SUE = latest surprise / std(previous surprises, last sue_history, ddof 1) "
        "when at least min_history exist. Drift (post-announcement, after the day-0 reaction): "
        "day 0 = first session on or after report_date; drift = C[day 0 + drift_window, or "
        "as_of if sooner] / C[day 0] - 1; abnormal_drift = drift - the equal-weight return of "
        "the selection over the same sessions (assets not yet listed, or delisted, left out). "
        "The run reads the last max(sue_history, 4) + 1 reports. revision = latest eps_estimate / "
        "estimate four reports earlier - 1 (a proxy for analyst revisions). Score = mean of "
        "winsorised z-scores of SUE, abnormal_drift and revision; stale reports (older than "
        "max_report_age days) are listed but not scored; rank 1 = strongest."
    ),
    datasets=("prices", "earnings"),
    history=lambda p: reports_to_days(max(p.sue_history, REVISION_LAG) + 1),
    shard_shape="two_phase",
    params_model=Params,
)
