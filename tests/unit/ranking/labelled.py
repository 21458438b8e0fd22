"""The labelled prompt set and its evaluation, shared by the eval test and ``make bench``.

Only prompts whose expected scenarios are all registered count, so the evaluation grows with
the catalogue instead of failing while scenarios land; off-topic prompts always count.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quantdesk.ranking.engine import Catalogue, suggest
from quantdesk.ranking.models import SuggestRequest
from quantdesk.ranking.settings import RankingSettings
from scenarios.registry import SCENARIO_IDS

PROMPTS = Path(__file__).with_name("prompts.json")


def load() -> list[dict[str, Any]]:
    prompts: list[dict[str, Any]] = json.loads(PROMPTS.read_text(encoding="utf-8"))["prompts"]
    return prompts


def registered_catalogue() -> Catalogue:
    """The registered scenarios that import (a scenario still being written is skipped)."""

    specs = []
    for scenario_id in SCENARIO_IDS:
        try:
            specs.append(importlib.import_module(f"scenarios.{scenario_id}").SPEC)
        except (ImportError, AttributeError):
            continue
    return Catalogue.from_specs(specs)


@dataclass
class Evaluation:
    on_topic: int = 0
    top1: int = 0
    top3: int = 0
    flagged: int = 0
    flagged_off_topic: int = 0
    off_topic: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.on_topic if self.on_topic else 0.0

    @property
    def top3_accuracy(self) -> float:
        return self.top3 / self.on_topic if self.on_topic else 0.0

    @property
    def off_topic_precision(self) -> float:
        """Of the prompts flagged no_confident_match, the share that really are off-topic."""
        return self.flagged_off_topic / self.flagged if self.flagged else 1.0

    @property
    def off_topic_recall(self) -> float:
        return self.flagged_off_topic / self.off_topic if self.off_topic else 1.0


def evaluate(catalogue: Catalogue, settings: RankingSettings | None = None) -> Evaluation:
    settings = settings or RankingSettings()
    known = set(catalogue.specs)
    result = Evaluation()
    for item in load():
        expected = [item["top1"], *item.get("also", [])] if item["top1"] else []
        if not set(expected) <= known:
            continue
        response = suggest(SuggestRequest(prompt=item["prompt"]), settings, catalogue=catalogue)
        ids = [s.scenario_id for s in response.suggestions]
        if response.no_confident_match:
            result.flagged += 1
        if not expected:
            result.off_topic += 1
            result.flagged_off_topic += response.no_confident_match
            if not response.no_confident_match:
                result.misses.append(f"off-topic ranked {ids[:1]}: {item['prompt']!r}")
            continue
        result.on_topic += 1
        result.top1 += bool(ids) and ids[0] == expected[0]
        in_top3 = set(expected) <= set(ids[:3])
        result.top3 += in_top3
        if not in_top3:
            result.misses.append(f"want {expected} got {ids[:3]}: {item['prompt']!r}")
    return result
