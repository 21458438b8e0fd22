"""The prompt engine: rank the catalogue for a prompt and explain every card.

Pipeline: analyse the prompt (typos, lexicon) -> BM25F scores (+ profile nudges) -> confidence
gate -> optional provider rerank (fallback: deterministic order) -> cards with matched terms,
a one-sentence "why" and pre-filled params validated by each scenario. No pandas, no numpy,
no I/O except the optional provider call.

The confidence gate: the best prompt-only score must reach ``min_score``, unless the prompt is a
*clear intent*: every content word is known (to the catalogue, the lexicon or as a ticker), so a
short prompt ("momentum", "dividend stocks") is answered with its closest scenarios from
``min_clear_score`` on, and a prompt that only names tickers ("AAPL", "compare AAPL and MSFT")
with the per-asset scenarios, pre-filled with them. One unknown word ("what's the weather")
keeps the full threshold, so off-topic prompts stay flagged.

A ticker prompt asks a few per-asset questions, in order (:data:`TICKER_INTENT`): each card
answers the one it answers best, so the scenario that is *about* trend outranks one that merely
mentions trend, risk and mean reversion together.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Final, NamedTuple

from quantdesk.ranking.entities import Entities, entity_words, extract
from quantdesk.ranking.exceptions import ProviderError
from quantdesk.ranking.index import CatalogueIndex, build_index
from quantdesk.ranking.lexicon import CONCEPT_PREFIX, concept_words
from quantdesk.ranking.models import (
    Engine,
    MatchedTerm,
    Profile,
    Suggestion,
    SuggestRequest,
    SuggestResponse,
    Understood,
)
from quantdesk.ranking.params import prefill
from quantdesk.ranking.providers import Candidate, LocalProvider, PromptProvider, Rerank
from quantdesk.ranking.scorer import Match, Scored, boost, correct, query_terms, score
from quantdesk.ranking.settings import RankingSettings
from quantdesk.ranking.stemmer import stem
from quantdesk.ranking.text import STOP_WORDS, Term, analyse_query, words

if TYPE_CHECKING:
    import datetime as dt

    from scenarios.base import ScenarioSpec

#: bump when scoring changes: (version, catalogue fingerprint) identifies a ranking exactly
RANKER_VERSION: Final = "1.2.0"
#: weight of profile-derived terms relative to prompt terms
PROFILE_WEIGHT: Final = 0.35
MAX_MATCHED_TERMS: Final = 8
SHORT_HORIZON_DAYS: Final = 30
LONG_HORIZON_DAYS: Final = 180

#: what ``html.escape(text, quote=True)`` replaces, without importing ``html`` and its entity
#: tables at cold start
_HTML_ESCAPES: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
)

#: what a prompt naming only tickers asks for, most wanted first: a per-asset read of them
#: (concepts the single-asset scenarios carry); two or more tickers also ask how they move
#: together, right after their risk and trend. A card scores the weight of the question it
#: answers best, times how well it answers it (its impact over the best impact of the concept).
TICKER_INTENT: Final = (("risk", 0.5), ("trend", 0.45), ("volatility", 0.4), ("meanrev", 0.35))
PAIR_INTENT: Final = ("pairs", 0.42)
#: words that frame a ticker prompt without naming a method ("compare AAPL and MSFT")
TICKER_CUES: Final = frozenset(
    """
    compare compared comparing comparison against overview snapshot outlook doing profile
    summary report performing
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

_RISK_CONCEPTS: Final = {
    "low": ("risk", "lowvol", "volatility"),
    "high": ("momentum", "breakout", "trend"),
}


class Catalogue(NamedTuple):
    """Specs by id plus their index: built once per process for the registry."""

    specs: Mapping[str, ScenarioSpec]
    index: CatalogueIndex

    @classmethod
    def from_specs(cls, specs: Sequence[ScenarioSpec]) -> Catalogue:
        return cls({s.scenario_id: s for s in specs}, build_index(specs))


@cache
def registry_catalogue() -> Catalogue:
    """The registered scenarios, indexed on first use (not at import: cold start)."""
    # cold start: the API indexes the catalogue on first use
    from scenarios.registry import specs  # noqa: PLC0415

    return Catalogue.from_specs(list(specs().values()))


def make_provider(settings: RankingSettings) -> PromptProvider:
    if settings.provider == "bedrock":
        # only when configured
        from quantdesk.ranking.bedrock import BedrockProvider  # noqa: PLC0415

        return BedrockProvider(settings.bedrock_model_id, settings.bedrock_timeout_ms)
    return LocalProvider()


def profile_terms(profile: Profile | None) -> tuple[list[Term], list[str]]:
    """Weak query terms implied by the profile and the readable reasons for them."""
    if profile is None:
        return [], []
    terms: list[Term] = []
    reasons: list[str] = []

    def concepts(names: Sequence[str], reason: str) -> None:
        terms.extend(Term(CONCEPT_PREFIX + n, PROFILE_WEIGHT, reason) for n in names)
        reasons.append(reason)

    if profile.risk_appetite in _RISK_CONCEPTS:
        concepts(_RISK_CONCEPTS[profile.risk_appetite], f"risk appetite {profile.risk_appetite}")
    if profile.horizon_days is not None and profile.horizon_days <= SHORT_HORIZON_DAYS:
        concepts(("shortterm", "meanrev", "breakout"), f"{profile.horizon_days}-day horizon")
    elif profile.horizon_days is not None and profile.horizon_days >= LONG_HORIZON_DAYS:
        concepts(("longterm", "factor", "macro", "trend"), f"{profile.horizon_days}-day horizon")
    for interest in profile.interests:
        found = [
            Term(t.key, t.weight * PROFILE_WEIGHT, "interests")
            for t in analyse_query(words(interest))
        ]
        if found:
            terms.extend(found)
            if "interests" not in reasons:
                reasons.append("interests")
    merged: dict[str, Term] = {}
    for term in terms:
        kept = merged.get(term.key)
        if kept is None or term.weight > kept.weight:
            merged[term.key] = term
    return list(merged.values()), reasons


def _quote_list(items: Sequence[str]) -> str:
    quoted = [f'"{item}"' for item in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def explain(scored: Scored, reasons: Sequence[str]) -> str:
    """One sentence: the strongest matches and where they matched, plus any profile nudge."""
    top = scored.matches[:3]
    fields = list(dict.fromkeys(m.field for m in top))
    sentence = f"Matches {_quote_list([m.term for m in top])} in its {' and '.join(fields)}"
    if scored.profile_shift > 0 and reasons:
        sentence += f"; your profile ({', '.join(reasons)}) added {scored.profile_shift:+.2f}"
    return sentence + "."


class Reading(NamedTuple):
    """How the prompt was read beyond its scores: what the gate and the explanation use."""

    #: content words nothing knows, even after typo correction (not indexed, not lexicon
    #: jargon, not a ticker)
    unmatched: tuple[str, ...]
    #: prompt concepts no scenario carries, answered through related ones ("dividend")
    approximated: tuple[str, ...]
    #: whether some word is unknown as typed: a typo correction ranks, but is no clear intent
    #: ("weather" corrected to "whether" must not answer "what's the weather")
    unknown_as_typed: bool
    #: "tickers" (a prompt naming only tickers), "clear" (a short known-words prompt) or None
    intent: str | None = None


def read(index: CatalogueIndex, prompt: str, terms: Sequence[Term], found: Entities) -> Reading:
    """Which words of ``prompt`` nothing knows, and which of its concepts no scenario carries."""
    tickers = {t.lower() for t in found.tickers}
    vocabulary = concept_words()
    entities = entity_words(prompt)

    def known(word: str) -> bool:
        return (
            len(word) < 2
            or word.isdigit()
            or word in STOP_WORDS
            or word in tickers
            or word in entities
            or word in TICKER_CUES
            or word in vocabulary
            or stem(word) in index.postings
        )

    unmatched: list[str] = []
    unknown_as_typed = False
    for word in words(prompt):
        if known(word):
            continue
        unknown_as_typed = True
        if not known(correct(index, word)) and word not in unmatched:
            unmatched.append(word)
    approximated = tuple(
        t.surface
        for t in terms
        if t.weight == 1.0 and t.key.startswith(CONCEPT_PREFIX) and t.key not in index.postings
    )
    return Reading(tuple(unmatched), approximated, unknown_as_typed)


def ticker_terms(tickers: Sequence[str], present: Sequence[Term]) -> list[Term]:
    """The per-asset intent of a prompt naming ``tickers`` (keys the prompt lacks only)."""
    wanted = list(TICKER_INTENT) + ([PAIR_INTENT] if len(tickers) > 1 else [])
    have = {t.key for t in present}
    return [
        Term(CONCEPT_PREFIX + name, weight, "tickers")
        for name, weight in wanted
        if CONCEPT_PREFIX + name not in have
    ]


def ticker_ranking(
    index: CatalogueIndex,
    terms: Sequence[Term],
    intent: Sequence[Term],
    limit: int,
    boosts: Sequence[Term] = (),
) -> list[Scored]:
    """The best ``limit`` cards for a ticker prompt: the prompt's own (weak) score plus the
    per-asset question each card answers best (see :data:`TICKER_INTENT`)."""
    answers: dict[int, Match] = {}
    for term in intent:
        if term.key not in index.impacts:
            continue
        best = index.max_impact[term.key]
        for doc, impact in index.impacts[term.key].items():
            value = term.weight * impact / best
            if doc not in answers or value > answers[doc].contribution:
                field = index.shares[term.key][doc][0][0]
                label = f"{term.surface} ~ {term.key[len(CONCEPT_PREFIX) :]}"
                answers[doc] = Match(label, field, round(value, 4))
    prompt_scores = {s.position: s for s in score(index, terms, len(index.ids), boosts)}
    ranked = []
    for doc in answers.keys() | prompt_scores.keys():
        answer = answers.get(doc)
        own = prompt_scores.get(doc)
        base = (own.base if own else 0.0) + (answer.contribution if answer else 0.0)
        matches = (own.matches if own else ()) + ((answer,) if answer else ())
        ranked.append(
            Scored(
                index.ids[doc],
                doc,
                base,
                own.profile_shift if own else boost(index, boosts, doc),
                tuple(sorted(matches, key=lambda m: (-m.contribution, m.term))),
            )
        )
    ranked.sort(key=lambda s: (-round(s.raw, 9), s.scenario_id))
    return ranked[:limit]


def _why(scored: Scored, reasons: Sequence[str], reading: Reading, found: Entities) -> str:
    """:func:`explain`, saying how a relaxed answer was reached and what was not matched."""
    if reading.intent == "tickers":
        named = [m for m in scored.matches if not m.term.startswith("tickers ~")]
        sentence = (
            f"Per-asset scenario for {_quote_list(list(found.tickers))}, pre-filled with them"
        )
        if named:
            sentence += f"; matches {_quote_list([m.term for m in named[:3]])}"
        sentence += "."
    else:
        sentence = explain(scored, reasons)
    if reading.approximated:
        sentence += (
            f" No scenario covers {_quote_list(list(reading.approximated))} itself:"
            " these are the closest."
        )
    if reading.unmatched:
        sentence += f" Not matched: {_quote_list(list(reading.unmatched))}."
    return sentence


def _params(spec: ScenarioSpec, found: Entities, profile: Profile | None) -> dict[str, object]:
    return prefill(
        spec.params_model,
        tickers=list(found.tickers),
        universe=found.universe or (profile.universe if profile else None),
        sector=found.sector or (profile.sector if profile else None),
        horizon_days=found.horizon_days or (profile.horizon_days if profile else None),
        risk=found.risk or (profile.risk_appetite if profile else None),
    )


def _rerank(
    provider: PromptProvider,
    prompt: str,
    shortlist: list[Scored],
    catalogue: Catalogue,
    half: float,
) -> tuple[list[Scored], dict[str, str], str | None]:
    """The provider's order of the shortlist (unlisted ones keep their order after it)."""
    if isinstance(provider, LocalProvider) or len(shortlist) < 2:
        return shortlist, {}, None
    candidates = [
        Candidate(
            s.scenario_id,
            catalogue.specs[s.scenario_id].title,
            catalogue.specs[s.scenario_id].description,
            round(s.raw / (s.raw + half), 4),
        )
        for s in shortlist
    ]
    try:
        reply: Rerank = provider.rerank(prompt, candidates)
    except ProviderError as exc:
        return shortlist, {}, exc.reason
    by_id = {s.scenario_id: s for s in shortlist}
    ordered = [by_id[i] for i in reply.order]
    ordered += [s for s in shortlist if s.scenario_id not in reply.rationales]
    return ordered, reply.rationales, None


def suggest(
    request: SuggestRequest,
    settings: RankingSettings,
    *,
    catalogue: Catalogue | None = None,
    provider: PromptProvider | None = None,
    today: dt.date | None = None,
) -> SuggestResponse:
    """Rank ``catalogue`` (default: the registry) for the request; never raises for bad text."""
    started = time.perf_counter()
    catalogue = catalogue or registry_catalogue()
    provider = provider or make_provider(settings)
    index = catalogue.index
    terms = query_terms(index, request.prompt)
    boosts, reasons = profile_terms(request.profile)
    found = extract(request.prompt, today)
    reading = read(index, request.prompt, terms, found)
    limit = max(request.limit, settings.rerank_top_n)
    shortlist = score(index, terms, limit, boosts)
    best = shortlist[0].base if shortlist else 0.0
    if best < settings.min_score and not reading.unknown_as_typed:
        if found.tickers:
            intent = ticker_terms(found.tickers, terms)
            shortlist = ticker_ranking(index, terms, intent, limit, boosts)
            reading = reading._replace(intent="tickers")
        elif best >= settings.min_clear_score:
            reading = reading._replace(intent="clear")
    confident = bool(shortlist) and (best >= settings.min_score or reading.intent is not None)
    fallback_reason = None
    rationales: dict[str, str] = {}
    if not confident:
        shortlist = []
    else:
        head = shortlist[: settings.rerank_top_n]
        head, rationales, fallback_reason = _rerank(
            provider, request.prompt, head, catalogue, settings.score_half
        )
        shortlist = head + shortlist[settings.rerank_top_n :]
    suggestions = []
    for rank, scored in enumerate(shortlist[: request.limit], start=1):
        spec = catalogue.specs[scored.scenario_id]
        suggestions.append(
            Suggestion(
                rank=rank,
                scenario_id=spec.scenario_id,
                title=spec.title,
                description=spec.description,
                score=round(scored.raw / (scored.raw + settings.score_half), 4),
                raw_score=round(scored.raw, 4),
                matched_terms=[_matched(m) for m in scored.matches[:MAX_MATCHED_TERMS]],
                why=rationales.get(scored.scenario_id) or _why(scored, reasons, reading, found),
                deliverables=list(spec.deliverables),
                params=_params(spec, found, request.profile),
            )
        )
    return SuggestResponse(
        prompt=request.prompt.translate(_HTML_ESCAPES),
        suggestions=suggestions,
        understood=Understood(
            tickers=list(found.tickers),
            universe=found.universe,
            sector=found.sector,
            horizon_days=found.horizon_days,
            risk=found.risk,  # type: ignore[arg-type]
            unmatched=list(reading.unmatched),
        ),
        no_confident_match=not confident,
        engine=Engine(
            provider=provider.name,  # type: ignore[arg-type]
            model=provider.model,
            version=f"{RANKER_VERSION}+{index.fingerprint}",
            prompt_hash=hashlib.sha256(request.prompt.encode("utf-8", "surrogatepass")).hexdigest(),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            fallback=fallback_reason is not None,
            fallback_reason=fallback_reason,
        ),
    )


def _matched(match: Match) -> MatchedTerm:
    return MatchedTerm(term=match.term, field=match.field, contribution=match.contribution)
