"""Prompt-engine providers: who may reorder the deterministic shortlist and say why.

``LocalProvider`` keeps the BM25F order (the default, and every fallback). The Amazon Bedrock
provider lives in :mod:`quantdesk.ranking.bedrock`, imported only when configured: its JSON
contract models, thread pool and botocore errors stay out of the default cold start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


class Candidate(NamedTuple):
    scenario_id: str
    title: str
    description: str
    score: float


@dataclass(frozen=True)
class Rerank:
    """A provider's order (a subset of the candidates, best first) and per-card rationales."""

    order: tuple[str, ...]
    rationales: dict[str, str] = field(default_factory=dict)


class PromptProvider(Protocol):
    name: str
    model: str

    def rerank(self, prompt: str, candidates: Sequence[Candidate]) -> Rerank:
        """Reorder ``candidates``; raise ProviderError when no usable answer comes back."""
        ...


class LocalProvider:
    """The deterministic scorer's own order, unchanged."""

    name = "local"
    model = "bm25f-lexicon"

    def rerank(self, prompt: str, candidates: Sequence[Candidate]) -> Rerank:
        return Rerank(order=tuple(c.scenario_id for c in candidates))
