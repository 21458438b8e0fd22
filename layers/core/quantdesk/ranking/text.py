"""Text analysis shared by the index and the queries: normalisation, tokens, stop words, stems.

Documents and prompts go through the same :func:`analyse`, so a phrase in a scenario's keywords
and the same phrase in a prompt always produce the same terms. Terms are Porter stems of word
tokens plus *concept* terms (``@pead``) emitted by the finance lexicon for phrases and jargon.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, NamedTuple

from quantdesk.ranking.lexicon import CONCEPT_PREFIX, QUERY_SYNONYMS, phrases
from quantdesk.ranking.stemmer import stem

_WORD = re.compile(r"[a-z0-9]+")

#: English function words plus request filler ("show me", "analyse", "stocks") that say nothing
#: about which scenario is wanted; kept out of scoring but still read by phrase matching.
STOP_WORDS: Final = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just let me
    more most my myself no nor not now of off on once only or other our ours out over own same
    she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself also get got go going want wants need needs like please
    show find give tell help look looking see run runs make using use used via per vs versus new
    one two three etc e g ie eg thing things something anything way ways really maybe lot lots
    stock stocks share shares equity equities name names ticker tickers company companies
    analyse analyze analysis analysing analyzing analyses research study review idea ideas good
    best better great nice today currently current right whats s t d ll re ve m
    day days week weeks month months quarter quarters year years ytd mtd qtd last past next
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


class Term(NamedTuple):
    """One analysed term: the index key, its weight in the query and the words behind it."""

    key: str
    weight: float
    surface: str


def normalise(text: str) -> str:
    """NFKC-fold, strip accents and lower-case: 'Accéléré' -> 'accelere'."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """The lower-case alphanumeric words of ``text`` (everything else separates words)."""
    return _WORD.findall(normalise(text))


def _concepts(stems: list[str], raw: list[str]) -> list[Term]:
    """Concept terms for every lexicon phrase found in the stem sequence (longest match wins)."""
    found: list[Term] = []
    by_first = phrases()
    i = 0
    while i < len(stems):
        best: tuple[int, str] = (0, "")
        for phrase, concept in by_first.get(stems[i], ()):
            n = len(phrase)
            # a one-word form never fires on a stop word ("new" is not "news")
            if n == 1 and raw[i] in STOP_WORDS:
                continue
            if n > best[0] and tuple(stems[i : i + n]) == phrase:
                best = (n, concept)
        if best[0]:
            found.append(Term(CONCEPT_PREFIX + best[1], 1.0, " ".join(raw[i : i + best[0]])))
        i += max(best[0], 1)
    return found


def analyse(text: str) -> list[Term]:
    """Index terms of a document field (weight 1 each, repeats kept for term frequency)."""
    return analyse_words(words(text))


def analyse_words(raw: list[str]) -> list[Term]:
    """:func:`analyse` of an already split word list."""
    stems = [stem(w) for w in raw]
    terms = [
        Term(s, 1.0, w)
        for w, s in zip(raw, stems, strict=True)
        if w not in STOP_WORDS and not w.isdigit() and len(w) > 1
    ]
    return terms + _concepts(stems, raw)


def analyse_query(raw: list[str]) -> list[Term]:
    """Terms of a prompt's words: as :func:`analyse_words`, deduplicated, plus weighted
    synonym expansions."""
    seen: dict[str, Term] = {}
    for term in analyse_words(raw):
        seen.setdefault(term.key, term)
    for term in list(seen.values()):
        for key, weight in QUERY_SYNONYMS.get(term.key, ()):
            if key not in seen:
                seen[key] = Term(key, weight, term.surface)
    return list(seen.values())
