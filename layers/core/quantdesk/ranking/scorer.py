"""Scoring a prompt against the index: typo correction, weighted BM25F sums, explanations."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from quantdesk.ranking.index import CatalogueIndex
from quantdesk.ranking.lexicon import CONCEPT_PREFIX, concept_words
from quantdesk.ranking.stemmer import stem
from quantdesk.ranking.text import STOP_WORDS, Term, analyse_query, words

_CONCEPT_WORDS: Final = concept_words()
#: typo correction only for words at least this long (short words collide too easily)
_MIN_TYPO_LEN: Final = 5
_MIN_SUBSTITUTION_LEN: Final = 7


@dataclass(frozen=True, slots=True)
class Match:
    term: str
    field: str
    contribution: float


@dataclass(frozen=True, slots=True)
class Scored:
    scenario_id: str
    position: int
    #: BM25F score of the prompt alone
    base: float
    #: what the profile added (0 without a profile)
    profile_shift: float
    matches: tuple[Match, ...]

    @property
    def raw(self) -> float:
        return self.base + self.profile_shift


def correct(index: CatalogueIndex, word: str) -> str:
    """The known word one edit away from an unknown ``word`` ('volatilty' -> 'volatility').

    Unknown means: not a stop word, number or lexicon word, and its stem is not indexed. A
    missing or an extra letter is corrected from five letters on; a wrong or swapped letter
    only from seven (short words collide: 'paris' is not a typo of 'pairs'). The closest
    length, then alphabetical order, picks among candidates.
    """
    if (
        len(word) < _MIN_TYPO_LEN
        or word in STOP_WORDS
        or word in _CONCEPT_WORDS
        or not word.isalpha()
        or stem(word) in index.postings
    ):
        return word
    candidates: set[str] = set(index.deletions.get(word, ()))
    for i in range(len(word)):
        variant = word[:i] + word[i + 1 :]
        known = index.deletions.get(variant, ())
        if variant in known:
            candidates.add(variant)
        if len(word) >= _MIN_SUBSTITUTION_LEN:
            candidates.update(known)
    if not candidates:
        return word
    return min(candidates, key=lambda c: (abs(len(c) - len(word)), c))


def query_terms(index: CatalogueIndex, text: str) -> list[Term]:
    """The weighted terms of a prompt after typo correction and lexicon expansion."""
    return analyse_query([correct(index, w) for w in words(text)])


def _accumulate(index: CatalogueIndex, terms: Sequence[Term]) -> dict[int, float]:
    totals: dict[int, float] = {}
    get = totals.get
    for term in terms:
        posting = index.postings.get(term.key)
        if posting is None:
            continue
        weight = term.weight
        for doc, impact in zip(*posting, strict=True):
            totals[doc] = get(doc, 0.0) + weight * impact
    return totals


def _explain(index: CatalogueIndex, terms: Sequence[Term], doc: int) -> tuple[Match, ...]:
    """One match per prompt term: its whole contribution, labelled with its strongest field."""
    matches = []
    for term in terms:
        posting = index.postings.get(term.key)
        shares = index.shares.get(term.key, {}).get(doc)
        if posting is None or shares is None:
            continue
        impact = posting[1][bisect_left(posting[0], doc)] * term.weight
        label = term.surface
        if term.key.startswith(CONCEPT_PREFIX) and term.weight < 1.0:
            label = f"{term.surface} ~ {term.key[len(CONCEPT_PREFIX) :]}"
        matches.append(Match(label, shares[0][0], round(impact, 4)))
    merged: dict[str, Match] = {}
    for match in sorted(matches, key=lambda m: (-m.contribution, m.term)):
        if match.term in merged:  # a phrase and its concept can share a surface form
            kept = merged[match.term]
            merged[match.term] = Match(
                kept.term, kept.field, round(kept.contribution + match.contribution, 4)
            )
        else:
            merged[match.term] = match
    return tuple(sorted(merged.values(), key=lambda m: (-m.contribution, m.term)))


def _accumulate_top(index: CatalogueIndex, terms: Sequence[Term], limit: int) -> dict[int, float]:
    """Exact totals for every document that can still reach the top ``limit`` (MaxScore).

    Terms go in order of their best possible contribution. Once the contributions still to
    come cannot lift an unseen document past the current ``limit``-th score, the remaining
    (frequent, low-idf) terms only update the surviving candidates, by binary search in their
    doc-ordered postings, instead of walking postings that can be as long as the catalogue.
    """
    present = [t for t in terms if t.key in index.postings]
    present.sort(key=lambda t: (-t.weight * index.max_impact[t.key], t.key))
    bounds = [t.weight * index.max_impact[t.key] for t in present]
    remaining = sum(bounds)
    totals: dict[int, float] = {}
    get = totals.get
    for i, term in enumerate(present):
        if i and len(totals) >= limit:
            theta = heapq.nlargest(limit, totals.values())[-1]
            if remaining < theta - 1e-9:
                totals = {d: v for d, v in totals.items() if v + remaining >= theta - 1e-9}
                for rest in present[i:]:
                    docs, impacts = index.postings[rest.key]
                    for doc in totals:
                        at = bisect_left(docs, doc)
                        if at < len(docs) and docs[at] == doc:
                            totals[doc] += rest.weight * impacts[at]
                return totals
        docs, impacts = index.postings[term.key]
        weight = term.weight
        for doc, impact in zip(docs, impacts, strict=True):
            totals[doc] = get(doc, 0.0) + weight * impact
        remaining -= bounds[i]
    return totals


def score(
    index: CatalogueIndex,
    terms: Sequence[Term],
    limit: int,
    boosts: Sequence[Term] = (),
) -> list[Scored]:
    """The best ``limit`` documents matching ``terms``, best first.

    ``boosts`` (profile terms) add to documents the prompt already matched, never to others.
    Ties on score break on scenario id, so the order is total and stable.
    """
    if boosts:
        base = _accumulate(index, terms)
        shift = _accumulate(index, boosts)
    else:
        base = _accumulate_top(index, terms, limit)
        shift = {}
    ids = index.ids
    best = heapq.nsmallest(
        limit,
        base,
        key=lambda d: (-round(base[d] + shift.get(d, 0.0), 9), ids[d]),
    )
    return [
        Scored(
            scenario_id=ids[d],
            position=d,
            base=base[d],
            profile_shift=shift.get(d, 0.0),
            matches=_explain(index, terms, d),
        )
        for d in best
    ]
