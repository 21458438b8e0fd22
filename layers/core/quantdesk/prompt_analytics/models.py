"""Models of ``GET /analysis/analytics``: the query (``from``/``to`` dates) and the report."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.errors import InvalidRequest

#: the default window (days, ``to`` included) and the longest one a query may ask for
DEFAULT_DAYS: Final = 30
MAX_DAYS: Final = 366
DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"


class AnalyticsQuery(BaseModel):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (UTC days, both included; default: the last 30)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str | None = Field(None, alias="from", pattern=DATE_PATTERN, description="first day")
    end: str | None = Field(None, alias="to", pattern=DATE_PATTERN, description="last day")

    def window(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The validated days; a bad date or range is a 400 naming ``from`` or ``to``."""
        end = _date(self.end, "to") if self.end else today
        start = _date(self.start, "from") if self.start else end - dt.timedelta(DEFAULT_DAYS - 1)
        if start > end:
            raise InvalidRequest("from must not be after to", field="from")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidRequest(f"at most {MAX_DAYS} days per query", field="from")
        return start, end


def _date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: not a calendar date ({text})", field=field) from exc


class Card(BaseModel):
    """A card as it was shown."""

    rank: int
    scenario_id: str
    score: float
    params: dict[str, Any] = Field(default_factory=dict)


class Choice(BaseModel):
    """A run started from a card: ``POST /analysis/run`` with ``provenance.suggest_id`` and
    ``provenance.rank``."""

    run_id: str
    rank: int
    scenario_id: str
    params: dict[str, Any] = Field(default_factory=dict)
    at: str


class SuggestRecord(BaseModel):
    """One suggest, as stored (the item's attributes)."""

    suggest_id: str
    at: str
    prompt: str
    prompt_hash: str
    no_match: bool
    cards: list[Card]
    choices: list[Choice] = Field(default_factory=list)


class DayCount(BaseModel):
    date: str
    prompts: int
    no_match: int


class RankChoice(BaseModel):
    rank: int
    shown: int = Field(description="suggests that showed a card at this rank")
    chosen: int = Field(description="of those, the ones whose (first) run used this card")
    rate: float


class EditedParam(BaseModel):
    scenario_id: str
    param: str
    edits: int = Field(description="runs whose value differed from the card's pre-filled one")


class NotFirst(BaseModel):
    """A prompt whose chosen card was not ranked first: the ranking's best teachers."""

    suggest_id: str
    at: str
    prompt: str
    chosen_scenario_id: str
    chosen_rank: int
    first_scenario_id: str


class LabelledPair(BaseModel):
    """A prompt and the card chosen for it (an entry of the ranking's evaluation set)."""

    prompt: str
    top1: str
    chosen_rank: int
    at: str


class AnalyticsReport(BaseModel):
    from_date: str
    to_date: str
    prompts: int
    no_match: int
    no_match_rate: float
    followed: int = Field(description="suggests followed by at least one run")
    per_day: list[DayCount]
    choice_rate_by_rank: list[RankChoice]
    most_edited_params: list[EditedParam]
    not_first: list[NotFirst]
    outcomes: dict[str, int] = Field(description="run status -> runs started from a card")
    pairs: list[LabelledPair] = Field(description="prompt -> chosen card, newest choice wins")
    truncated: bool = Field(description="the window held more suggests than one report reads")
