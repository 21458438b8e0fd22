from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace

import pytest

from quantdesk.ranking.engine import Catalogue, profile_terms
from quantdesk.ranking.index import FIELDS, CatalogueIndex, build_index
from quantdesk.ranking.models import Profile
from quantdesk.ranking.scorer import Scored, _explain, correct, query_terms, score
from quantdesk.ranking.text import Term
from tests.benchmarks.bench_ranking import synthetic_catalogue
from tests.unit.ranking.conftest import SYNTHETIC, make_spec
from tests.unit.ranking.labelled import load


def top_ids(catalogue: Catalogue, prompt: str, limit: int = 3) -> list[str]:
    index = catalogue.index
    return [s.scenario_id for s in score(index, query_terms(index, prompt), limit)]


def test_jargon_and_paraphrases_find_the_scenario(catalogue: Catalogue) -> None:
    assert top_ids(catalogue, "PEAD")[0] == "earnings_drift"
    assert top_ids(catalogue, "names that beat estimates last quarter")[0] == "earnings_drift"
    assert top_ids(catalogue, "which stocks are cointegrated?")[0] == "pairs"
    assert top_ids(catalogue, "statistical arbitrage")[0] == "pairs"
    assert top_ids(catalogue, "stocks at 52-week highs")[0] == "breakouts"
    assert top_ids(catalogue, "how exposed am I to rate hikes")[0] == "macro"
    assert top_ids(catalogue, "is the market calm or stressed")[0] == "vol_regime"


def test_title_outweighs_description() -> None:
    # Given the same word once in a title and once in a description of equal length docs
    index = build_index(
        [
            make_spec("in_title", "Alpha widget", description="Plain words here."),
            make_spec("in_desc", "Plain words", description="Alpha widget here."),
        ]
    )
    # When / Then
    ranked = score(index, query_terms(index, "alpha"), 2)
    assert [s.scenario_id for s in ranked] == ["in_title", "in_desc"]
    assert ranked[0].matches[0].field == "title"
    assert FIELDS["title"][0] > FIELDS["description"][0]


def test_ties_break_on_scenario_id_whatever_the_catalogue_order() -> None:
    twins = [
        make_spec(i, "Widget title", keywords=("widget",)) for i in ("b_twin", "a_twin", "c_twin")
    ]
    for order in (twins, twins[::-1]):
        index = build_index(order)
        assert [s.scenario_id for s in score(index, query_terms(index, "widget"), 3)] == [
            "a_twin",
            "b_twin",
            "c_twin",
        ]


def test_term_frequency_saturates() -> None:
    index = build_index(
        [
            make_spec("once", "Spread", description="x " * 10),
            make_spec("many", "Spread spread spread spread", description="x " * 10),
        ]
    )
    ranked = {s.scenario_id: s.raw for s in score(index, query_terms(index, "spread"), 2)}
    assert ranked["many"] > ranked["once"]
    assert ranked["many"] < 2 * ranked["once"]


def test_contributions_add_up_to_the_score(catalogue: Catalogue) -> None:
    index = catalogue.index
    best = score(index, query_terms(index, "cointegration spread hedge ratio"), 1)[0]
    assert math.isclose(sum(m.contribution for m in best.matches), best.raw, abs_tol=1e-3)
    assert all(m.field in FIELDS for m in best.matches)


def test_typos_are_corrected_against_the_vocabulary(catalogue: Catalogue) -> None:
    index = catalogue.index
    assert correct(index, "volatilty") == "volatility"
    assert correct(index, "cointegraton") == "cointegration"
    assert correct(index, "xyzzyplugh") == "xyzzyplugh"
    assert correct(index, "the") == "the"
    assert top_ids(catalogue, "volatilty regmes")[0] == "vol_regime"


def test_unknown_words_match_nothing(catalogue: Catalogue) -> None:
    index = catalogue.index
    assert score(index, query_terms(index, "what's the weather in Paris"), 5) == []
    assert score(index, query_terms(index, "🙂🙂🙂"), 5) == []


def test_scoring_is_deterministic(catalogue: Catalogue) -> None:
    index = catalogue.index
    prompt = "drawdown and leverage red flags with volatility"
    first = score(index, query_terms(index, prompt), 6)
    again = score(build_index(list(SYNTHETIC)), query_terms(index, prompt), 6)
    assert first == again
    assert build_index(list(SYNTHETIC)).fingerprint == index.fingerprint


def exhaustive(
    index: CatalogueIndex, terms: Sequence[Term], limit: int, boosts: Sequence[Term] = ()
) -> list[Scored]:
    """The reference: walk every posting of every term, sort every matched document."""

    def accumulate(query: Sequence[Term]) -> dict[int, float]:
        totals: dict[int, float] = {}
        for term in query:
            docs, impacts = index.postings.get(term.key, ((), ()))
            for doc, impact in zip(docs, impacts, strict=True):
                totals[doc] = totals.get(doc, 0.0) + term.weight * impact
        return totals

    base, shift = accumulate(terms), accumulate(boosts)
    ranked = sorted(base, key=lambda d: (-round(base[d] + shift.get(d, 0.0), 9), index.ids[d]))
    return [
        Scored(index.ids[d], d, base[d], shift.get(d, 0.0), _explain(index, terms, d))
        for d in ranked[:limit]
    ]


@pytest.fixture(scope="module")
def large() -> tuple[CatalogueIndex, list[str]]:
    """A synthetic catalogue with Zipf-distributed words: long and short postings, and twins
    (the same text under other ids) so that exact ties must break on the id under pruning."""
    specs = synthetic_catalogue(600, seed=3)
    twins = [replace(s, scenario_id=f"twin_{i:03d}_{s.scenario_id}") for i, s in enumerate(specs)]
    specs += twins[::7] + twins[::7][::-1][:20]
    vocab = sorted({w for s in specs for w in f"{s.title} {s.description}".split()})
    return build_index(specs), vocab


def test_pruned_top_k_equals_exhaustive_scoring(large: tuple[CatalogueIndex, list[str]]) -> None:
    # Given random prompts of frequent and rare words, labelled prompts and profile boosts
    index, vocab = large
    rng = random.Random(5)
    labelled = [p["prompt"] for p in load()]
    profiles = [
        Profile(risk_appetite="low"),
        Profile(horizon_days=10, interests=["sentiment", "pairs trading"]),
        Profile(horizon_days=365, risk_appetite="high"),
    ]
    for i in range(300):
        if i % 4 == 0:
            prompt = rng.choice(labelled)
        else:
            prompt = " ".join(rng.choices(vocab, k=rng.randint(1, 9)))
        terms = query_terms(index, prompt)
        boosts = profile_terms(rng.choice(profiles))[0] if i % 3 == 0 else []
        for limit in (1, 3, 5, 8, 20):
            # When ranked with pruning / Then exactly the exhaustive top: ids, order, scores
            # to the last bit, matched terms and contributions
            assert score(index, terms, limit, boosts) == exhaustive(index, terms, limit, boosts)
