"""Request and response models of ``POST /analysis/suggest`` (the web UI builds against these).

Response::

    {"prompt": str (HTML-escaped), "suggestions": [Suggestion], "understood": Understood,
     "no_confident_match": bool, "engine": Engine}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from scenarios.frames import SECTOR_NAMES, UNIVERSES

#: default number of suggestions
MAX_SCENARIOS = 5
MAX_LIMIT = 20
MAX_PROMPT_CHARS = 2000

RiskAppetite = Literal["low", "medium", "high"]


class Profile(BaseModel):
    """A researcher's standing preferences; they fill unset params and nudge the ranking."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    universe: Literal[UNIVERSES] | None = Field(None, description="preferred universe id")  # type: ignore[valid-type]
    sector: Literal[SECTOR_NAMES] | None = Field(None, description="preferred GICS sector")  # type: ignore[valid-type]
    horizon_days: StrictInt | None = Field(
        None, ge=1, le=3650, description="usual holding/analysis horizon in calendar days"
    )
    risk_appetite: RiskAppetite | None = None
    interests: list[str] = Field(
        default_factory=list, max_length=10, description="topics to favour, e.g. 'sentiment'"
    )

    @field_validator("interests")
    @classmethod
    def _short_interests(cls, value: list[str]) -> list[str]:
        if any(len(item) > 60 for item in value):
            raise ValueError("each interest must be at most 60 characters")
        return value


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    profile: Profile | None = None
    limit: StrictInt = Field(MAX_SCENARIOS, ge=1, le=MAX_LIMIT)

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be blank")
        return value


class MatchedTerm(BaseModel):
    term: str = Field(
        description="the prompt word or phrase that matched (lexicon concept after ~)"
    )
    field: str = Field(description="the scenario field where it weighed most")
    contribution: float = Field(description="its share of raw_score")


class Suggestion(BaseModel):
    rank: int
    scenario_id: str
    title: str
    description: str
    score: float = Field(ge=0.0, le=1.0, description="raw_score squashed to 0..1")
    raw_score: float
    matched_terms: list[MatchedTerm]
    why: str
    deliverables: list[str]
    params: dict[str, Any] = Field(description="pre-filled inputs, validated by the scenario")


class Understood(BaseModel):
    tickers: list[str] = Field(default_factory=list)
    universe: str | None = None
    sector: str | None = None
    horizon_days: int | None = None
    risk: RiskAppetite | None = None
    unmatched: list[str] = Field(
        default_factory=list,
        description="prompt words no scenario, lexicon entry or ticker accounts for",
    )


class Engine(BaseModel):
    provider: Literal["local", "bedrock"]
    model: str
    version: str
    prompt_hash: str = Field(description="sha256 of the prompt, hex")
    latency_ms: float
    fallback: bool = False
    fallback_reason: str | None = None


class SuggestResponse(BaseModel):
    prompt: str = Field(description="the prompt, HTML-escaped")
    suggestions: list[Suggestion]
    understood: Understood
    no_confident_match: bool
    engine: Engine
    suggest_id: str | None = Field(
        None,
        description="this suggest in the caller's prompt analytics; send it back as the "
        "run's provenance.suggest_id with the card's rank",
    )
