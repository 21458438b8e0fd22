"""The field-weighted BM25 (BM25F) index of the catalogue, built once per process.

For a term ``t`` and a document ``d`` with fields ``f`` (title, keywords, description,
deliverables, methodology), BM25F pools the length-normalised term frequencies first::

    tf~(t, d) = sum_f  w_f * tf(t, d, f) / (1 - b_f + b_f * len(d, f) / avglen(f))
    s(t, d)   = idf(t) * tf~ / (k1 + tf~),   idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))

``s(t, d)`` does not depend on the query, so it is precomputed into postings sorted by impact,
best first (the scorer stops walking a list once its remaining impacts cannot change the top
results), plus a doc -> impact map per term for the candidates it still has to complete. Each
posting keeps the share of every field in ``tf~``, which is how a match is explained.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from quantdesk.ranking.lexicon import CONCEPT_PREFIX, concept_words
from quantdesk.ranking.text import Term, analyse

#: field -> (weight w_f, length normalisation b_f)
FIELDS: Final[dict[str, tuple[float, float]]] = {
    "title": (3.0, 0.3),
    "keywords": (2.5, 0.3),
    "description": (1.0, 0.75),
    "deliverables": (0.7, 0.75),
    "methodology": (0.3, 0.75),
}
K1: Final = 1.2


class SpecLike(Protocol):
    """What the index reads from a scenario spec (``scenarios.base.ScenarioSpec`` fits)."""

    @property
    def scenario_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def keywords(self) -> tuple[str, ...]: ...
    @property
    def deliverables(self) -> tuple[str, ...]: ...
    @property
    def methodology(self) -> str: ...


#: (field, share of tf~) for every field a term occurs in, largest first
FieldShares = tuple[tuple[str, float], ...]


@dataclass
class CatalogueIndex:
    ids: list[str]
    #: term -> (doc positions, impacts), parallel tuples sorted by impact, largest first (ties by
    #: position): the hot loop of every query walks a prefix of them
    postings: dict[str, tuple[tuple[int, ...], tuple[float, ...]]]
    #: term -> doc position -> impact (random access for candidates found through other terms)
    impacts: dict[str, dict[int, float]]
    #: term -> doc position -> field shares (read only to explain the top results)
    shares: dict[str, dict[int, FieldShares]]
    #: term -> readable form (the first word that produced it)
    surfaces: dict[str, str]
    #: one-edit deletion variants of known words -> the words (for typo correction)
    deletions: dict[str, tuple[str, ...]]
    fingerprint: str
    #: term -> its largest impact (the bound on what it can add to any document)
    max_impact: dict[str, float]

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, scenario_id: str) -> int:
        return self.ids.index(scenario_id)


def spec_fields(spec: SpecLike) -> dict[str, str]:
    return {
        "title": f"{spec.title} {spec.scenario_id.replace('_', ' ')}",
        "keywords": " ; ".join(spec.keywords),
        "description": spec.description,
        "deliverables": " ; ".join(spec.deliverables),
        "methodology": spec.methodology,
    }


def _deletion_variants(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _deletion_index(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    index: dict[str, set[str]] = {}
    for word in words:
        if len(word) < 5 or word.isdigit():
            continue
        for variant in _deletion_variants(word) | {word}:
            index.setdefault(variant, set()).add(word)
    return {k: tuple(sorted(v)) for k, v in index.items()}


def build_index(specs: Sequence[SpecLike]) -> CatalogueIndex:
    """Analyse every spec and precompute BM25F impacts; deterministic for the same specs."""
    analysed: list[dict[str, list[Term]]] = [
        {name: analyse(text) for name, text in spec_fields(spec).items()} for spec in specs
    ]
    n_docs = len(specs)
    avg_len = {
        name: max(sum(len(doc[name]) for doc in analysed) / max(n_docs, 1), 1.0) for name in FIELDS
    }
    surfaces: dict[str, str] = {}
    raw_words: set[str] = set(concept_words())
    # term -> doc -> field -> tf
    counts: dict[str, dict[int, dict[str, int]]] = {}
    for doc_id, doc in enumerate(analysed):
        for name, terms in doc.items():
            for term in terms:
                per_field = counts.setdefault(term.key, {}).setdefault(doc_id, {})
                per_field[name] = per_field.get(name, 0) + 1
                surfaces.setdefault(term.key, term.surface)
                if not term.key.startswith(CONCEPT_PREFIX):
                    raw_words.add(term.surface)
    postings: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {}
    shares: dict[str, dict[int, FieldShares]] = {}
    for key, docs in counts.items():
        idf = math.log(1.0 + (n_docs - len(docs) + 0.5) / (len(docs) + 0.5))
        positions: list[int] = []
        impacts: list[float] = []
        term_shares: dict[int, FieldShares] = {}
        for doc_id, per_field in docs.items():
            parts = {
                name: FIELDS[name][0]
                * tf
                / (
                    1
                    - FIELDS[name][1]
                    + FIELDS[name][1] * len(analysed[doc_id][name]) / avg_len[name]
                )
                for name, tf in per_field.items()
            }
            pooled = sum(parts.values())
            impact = idf * pooled / (K1 + pooled)
            positions.append(doc_id)
            impacts.append(impact)
            term_shares[doc_id] = tuple(
                sorted(((n, p / pooled) for n, p in parts.items()), key=lambda x: (-x[1], x[0]))
            )
        ranked = sorted(range(len(positions)), key=lambda j: (-impacts[j], positions[j]))
        postings[key] = (tuple(positions[j] for j in ranked), tuple(impacts[j] for j in ranked))
        shares[key] = term_shares
    digest = hashlib.sha256()
    for spec in specs:
        for text in (spec.scenario_id, *spec_fields(spec).values()):
            digest.update(text.encode())
            digest.update(b"\x00")
    return CatalogueIndex(
        ids=[spec.scenario_id for spec in specs],
        postings=postings,
        impacts={key: dict(zip(*posting, strict=True)) for key, posting in postings.items()},
        shares=shares,
        surfaces=surfaces,
        deletions=_deletion_index(raw_words),
        fingerprint=digest.hexdigest()[:12],
        max_impact={key: impacts[0] for key, (_, impacts) in postings.items()},
    )
