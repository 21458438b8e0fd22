"""Scoring a prompt against the index: typo correction, weighted BM25F sums, explanations."""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple

from quantdesk.ranking.index import CatalogueIndex
from quantdesk.ranking.lexicon import CONCEPT_PREFIX, concept_words
from quantdesk.ranking.stemmer import stem
from quantdesk.ranking.text import STOP_WORDS, Term, analyse_query, words

#: typo correction only for words at least this long (short words collide too easily)
_MIN_TYPO_LEN: Final = 5
_MIN_SUBSTITUTION_LEN: Final = 7


class Match(NamedTuple):
    term: str
    field: str
    contribution: float


class Scored(NamedTuple):
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
        or word in concept_words()
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


def _explain(index: CatalogueIndex, terms: Sequence[Term], doc: int) -> tuple[Match, ...]:
    """One match per prompt term: its whole contribution, labelled with its strongest field."""
    matches = []
    for term in terms:
        impact = index.impacts.get(term.key, {}).get(doc)
        shares = index.shares.get(term.key, {}).get(doc)
        if impact is None or shares is None:
            continue
        impact *= term.weight
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


#: slack of every pruning test: far above the rounding error of a sum of impacts (~1e-15) and
#: above the 1e-9 at which scores are compared, far below any meaningful score difference
_SLACK: Final = 1e-7

#: (weight, doc -> impact) of each query term present in the index, in query order
_Lookups = list[tuple[float, dict[int, float]]]


def _lookups(index: CatalogueIndex, terms: Sequence[Term]) -> _Lookups:
    return [(t.weight, index.impacts[t.key]) for t in terms if t.key in index.impacts]


def _total(lookups: _Lookups, doc: int) -> float:
    """A document's exact score: the same additions, in the same order, as exhaustive scoring."""
    total = 0.0
    for weight, impacts in lookups:
        impact = impacts.get(doc)
        if impact is not None:
            total = total + weight * impact
    return total


def _kth_largest(values: Iterable[float], k: int) -> float:
    best = heapq.nlargest(k, values)
    return best[-1] if len(best) == k else -math.inf


def _complete(
    totals: dict[int, float], index: CatalogueIndex, term: Term, n: int, floor: float
) -> None:
    """Add what the postings after the ``n``-th (impacts below ``floor``) give to ``totals``:
    by lookup when the candidates are fewer than those postings, else by walking them."""
    weight = term.weight
    docs, impacts = index.postings[term.key]
    if len(totals) < len(docs) - n:
        by_doc = index.impacts[term.key]
        for doc, total in totals.items():
            impact = by_doc.get(doc)
            if impact is not None and impact < floor:
                totals[doc] = total + weight * impact
    else:
        for doc, impact in zip(docs[n:], impacts[n:], strict=True):
            if doc in totals:
                totals[doc] += weight * impact


def _candidates(
    index: CatalogueIndex, terms: Sequence[Term], limit: int, boost_bound: float
) -> dict[int, float]:
    """Every document that can still reach the top ``limit``, with its score up to rounding.

    Postings are sorted by impact, so a document first met in the list of term ``t`` can only
    score ``w_t * impact + (bounds of the terms after t) + boost_bound``: once that falls below
    ``theta`` (a lower bound of the ``limit``-th best score), the rest of the list can no longer
    bring new candidates and only completes the ones already found, by lookup when they are
    fewer than the postings left. Terms go by decreasing bound, so the long lists of frequent,
    low-idf words come last, when ``theta`` is high and little remains to be added. Candidates
    that cannot catch up with ``theta`` any more are dropped on the way.
    """
    present = sorted(
        (t for t in terms if t.key in index.postings),
        key=lambda t: -t.weight * index.max_impact[t.key],
    )
    bounds = [t.weight * index.max_impact[t.key] for t in present]
    # the top impacts of every list are strong candidates: their exact scores seed theta
    lookups = _lookups(index, terms)
    seeds = {doc for t in present for doc in index.postings[t.key][0][:limit]}
    theta = _kth_largest((_total(lookups, doc) for doc in seeds), limit)
    remaining = sum(bounds) + boost_bound
    seen = 0.0  # bounds of the terms walked so far: no partial total can exceed it
    totals: dict[int, float] = {}
    for term, bound in zip(present, bounds, strict=True):
        remaining -= bound
        seen += bound
        weight = term.weight
        docs, impacts = index.postings[term.key]
        floor = (theta - remaining - _SLACK) / weight
        # the prefix whose impacts can still make a new document: impacts[:n] >= floor
        n = bisect_right(impacts, -floor, key=float.__neg__)
        if totals:
            get = totals.get
            for doc, impact in zip(docs[:n], impacts[:n], strict=True):
                totals[doc] = get(doc, 0.0) + weight * impact
        else:
            totals = dict(zip(docs[:n], [weight * impact for impact in impacts[:n]], strict=True))
        if n < len(docs):
            _complete(totals, index, term, n, floor)
        if seen > theta:  # else no partial total can raise theta: skip the scan
            theta = max(theta, _kth_largest(totals.values(), limit))
        if remaining < theta:
            cut = theta - remaining - _SLACK
            totals = {doc: total for doc, total in totals.items() if total >= cut}
    return totals


def boost(index: CatalogueIndex, boosts: Sequence[Term], doc: int) -> float:
    """What ``boosts`` (profile terms) add to document ``doc``."""
    return _total(_lookups(index, boosts), doc)


def score(
    index: CatalogueIndex,
    terms: Sequence[Term],
    limit: int,
    boosts: Sequence[Term] = (),
) -> list[Scored]:
    """The best ``limit`` documents matching ``terms``, best first.

    ``boosts`` (profile terms) add to documents the prompt already matched, never to others.
    Ties on score break on scenario id, so the order is total and stable. Exact: the same
    documents, scores and order as scoring every document (see :func:`_candidates`).
    """
    boost_lookups = _lookups(index, boosts)
    boost_bound = sum(b.weight * index.max_impact[b.key] for b in boosts if b.key in index.impacts)
    totals = _candidates(index, terms, limit, boost_bound)
    if boost_lookups:
        totals = {doc: total + _total(boost_lookups, doc) for doc, total in totals.items()}
    # the exact sums, recomputed in query order, decide among the few that can be in the top
    cut = _kth_largest(totals.values(), limit) - _SLACK
    lookups = _lookups(index, terms)
    finalists = [
        (doc, _total(lookups, doc), _total(boost_lookups, doc))
        for doc, total in totals.items()
        if total >= cut
    ]
    ids = index.ids
    finalists.sort(key=lambda f: (-round(f[1] + f[2], 9), ids[f[0]]))
    return [
        Scored(
            scenario_id=ids[doc],
            position=doc,
            base=base,
            profile_shift=shift,
            matches=_explain(index, terms, doc),
        )
        for doc, base, shift in finalists[:limit]
    ]
