from __future__ import annotations

import pytest

from quantdesk.ranking.stemmer import stem
from quantdesk.ranking.text import STOP_WORDS, analyse, analyse_query, normalise, words


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("caresses", "caress"),
        ("ponies", "poni"),
        ("relational", "relat"),
        ("conditional", "condit"),
        ("hopping", "hop"),
        ("generalization", "gener"),
        ("volatility", "volatil"),
        ("cointegrated", "cointegr"),
        ("cointegration", "cointegr"),
        ("earnings", "earn"),
        ("momentum", "momentum"),
        ("ab", "ab"),
    ],
)
def test_porter_stems(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_normalise_folds_width_accents_and_case() -> None:
    # Given full-width letters and accents / When normalised / Then plain lower-case ASCII
    assert normalise("\uff30\uff25\uff21\uff24 Acc\u00e9l\u00e9r\u00e9") == "pead accelere"


def test_words_split_on_everything_but_letters_and_digits() -> None:
    assert words("mean-reverting <b>RSI(2)</b> 📈 'x'; DROP--") == [
        "mean", "reverting", "b", "rsi", "2", "b", "x", "drop",
    ]  # fmt: skip


def test_stop_words_and_numbers_are_not_terms() -> None:
    keys = [t.key for t in analyse("Show me the stocks with 200 days of momentum")]
    assert keys == ["momentum", "@momentum"]
    assert {"the", "show", "stocks"} <= STOP_WORDS


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("PEAD", "@pead"),
        ("post-earnings announcement drift", "@pead"),
        ("earnings surprises", "@pead"),
        ("low vol names", "@lowvol"),
        ("52-week highs", "@breakout"),
        ("rates", "@rates"),
        ("cointegrated", "@pairs"),
        ("co-integration", "@pairs"),
        ("stat arb", "@pairs"),
        ("buy the dip", "@meanrev"),
    ],
)
def test_lexicon_phrases_emit_concepts(text: str, concept: str) -> None:
    assert concept in {t.key for t in analyse(text)}


def test_longest_phrase_wins_and_words_stay() -> None:
    terms = analyse("pairs trading")
    assert [t.key for t in terms] == ["pair", "trade", "@pairs"]
    assert terms[-1].surface == "pairs trading"


def test_query_terms_are_deduplicated_and_expanded_weaker() -> None:
    terms = {t.key: t.weight for t in analyse_query(words("low vol low vol"))}
    assert terms["@lowvol"] == 1.0
    assert terms["@volatility"] < 1.0
    assert list(terms).count("low") == 1


def test_emoji_sql_and_html_are_just_text() -> None:
    terms = analyse_query(words("🚀🚀 '; DROP TABLE runs; -- <script>alert(1)</script> momentum"))
    keys = {t.key for t in terms}
    assert "momentum" in keys
    assert all(k.replace("@", "").isalnum() for k in keys)
