from __future__ import annotations

import math

from quantdesk.ranking.engine import Catalogue
from quantdesk.ranking.index import FIELDS, build_index
from quantdesk.ranking.scorer import correct, query_terms, score
from tests.unit.ranking.conftest import SYNTHETIC, make_spec


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


def test_pruned_top_k_equals_exhaustive_scoring() -> None:
    # Given a synthetic catalogue with frequent and rare words
    from quantdesk.ranking.scorer import _accumulate
    from tests.benchmarks.bench_ranking import synthetic_catalogue

    specs = synthetic_catalogue(400, seed=3)
    index = build_index(specs)
    vocab = sorted({w for s in specs for w in s.title.split()})
    import random

    rng = random.Random(5)
    for _ in range(60):
        terms = query_terms(index, " ".join(rng.sample(vocab, rng.randint(1, 7))))
        for limit in (1, 5):
            # When ranked with pruning / Then the same top documents and scores as exhaustive
            full = _accumulate(index, terms)
            want = sorted(full, key=lambda d: (-round(full[d], 9), index.ids[d]))[:limit]
            got = score(index, terms, limit)
            assert [s.position for s in got] == want
            assert [round(s.base, 9) for s in got] == [round(full[d], 9) for d in want]
