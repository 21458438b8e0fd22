"""Accuracy on the labelled prompts, against the real, registered catalogue."""

from __future__ import annotations

import pytest

from scenarios.registry import SCENARIO_IDS
from tests.unit.ranking.labelled import evaluate, load, registered_catalogue

FIXED_IDS = {
    "factor_ladder", "trend_strength", "earnings_momentum", "mean_reversion",
    "volatility_regime", "sentiment_blend", "macro_sensitivity", "sector_rotation",
    "pairs_cointegration", "risk_watchlist", "factor_tearsheet", "breakout_scanner",
}  # fmt: skip
MIN_REGISTERED = 6


def test_the_labelled_set_is_broad() -> None:
    prompts = load()
    assert len(prompts) >= 80
    labelled = {p["top1"] for p in prompts} | {a for p in prompts for a in p.get("also", [])}
    assert labelled - {None} == FIXED_IDS
    assert {p["kind"] for p in prompts} >= {"paraphrase", "typo", "jargon", "multi", "offtopic"}


def test_off_topic_prompts_are_flagged() -> None:
    result = evaluate(registered_catalogue())
    assert result.off_topic_precision == 1.0
    assert result.off_topic_recall >= 0.9, result.misses


def test_top3_accuracy_on_registered_scenarios() -> None:
    catalogue = registered_catalogue()
    if len(catalogue.specs) < MIN_REGISTERED:
        pytest.skip(f"{len(catalogue.specs)}/{len(SCENARIO_IDS)} scenarios registered yet")
    result = evaluate(catalogue)
    assert result.top3_accuracy == 1.0, "\n".join(result.misses)
