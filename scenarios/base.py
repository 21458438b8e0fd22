"""The contract between a scenario and everything that runs it.

A scenario is a package ``scenarios/<scenario_id>/``:

* ``__init__.py`` defines ``Params`` (a :class:`ScenarioParams` subclass) and ``SPEC`` (a
  :class:`ScenarioSpec`). It imports pydantic only, so the API can serve the catalogue and
  validate inputs without loading pandas (cold start).
* ``compute.py`` defines ``run(data: ScenarioData, params: Params) -> ScenarioResult``: pure
  pandas/numpy, no I/O.

The worker Lambda, the CLI and the tests all go through :mod:`scenarios.registry`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

if TYPE_CHECKING:
    import pandas as pd

TICKER_PATTERN = r"^[A-Z][A-Z0-9.\-]{0,9}$"
#: a universe name: the built-in ones (scenarios.frames.UNIVERSES) and those ingestion registers
UNIVERSE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class ScenarioParams(BaseModel):
    """Inputs every scenario accepts. Scenario input models subclass this.

    Either ``tickers`` (explicit list) or ``universe`` selects the assets; ``tickers`` wins.
    ``as_of`` defaults to the last date in the data.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    universe: str = Field(
        "us_large_cap",
        pattern=UNIVERSE_PATTERN,
        description="Universe of assets to analyse: a built-in one or one registered by ingestion",
    )
    tickers: list[str] | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Explicit tickers; overrides universe when given",
    )
    sector: str | None = Field(None, description="Restrict to one sector (GICS name)")
    as_of: dt.date | None = Field(None, description="Analysis date; defaults to latest data")

    @field_validator("tickers")
    @classmethod
    def _normalise_tickers(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = []
        for raw in value:
            ticker = raw.strip().lstrip("$").upper()
            if not re.match(TICKER_PATTERN, ticker):
                raise ValueError(f"invalid ticker {raw!r}")
            if ticker not in cleaned:
                cleaned.append(ticker)
        return cleaned


class ScenarioSpec(BaseModel):
    """Catalogue metadata, registered next to the scenario's code."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario_id: str
    version: str
    title: str
    description: str
    keywords: tuple[str, ...]
    deliverables: tuple[str, ...]
    methodology: str
    #: datasets read (names from scenarios.frames.SCHEMAS); "prices" is always needed
    datasets: tuple[str, ...] = ("prices",)
    #: calendar days of history the default parameters need before ``as_of``
    history_days: int = 0
    params_model: type[ScenarioParams] = Field(exclude=True)
    #: calendar days of history ``params`` need before ``as_of`` (warm-up included): the
    #: worker loads this window, the CLI cuts a local file to it. Every catalogue scenario
    #: declares its own (a contract test checks); the default serves stand-in specs.
    history: Callable[[Any], int] = Field(
        default=lambda _params: UNSIZED_HISTORY_DAYS, exclude=True
    )
    #: (result column, numeric param): a watch alerts when the column crosses the param's value
    alert_thresholds: tuple[tuple[str, str], ...] = Field((), exclude=True)
    #: how a run splits over workers (scenarios.sharding): "per_asset" (shards of assets compute
    #: every per-asset value, the reduce ranks them), "two_phase" (shards of assets load and
    #: condense their data, the reduce computes across assets) or "single" (one worker); every
    #: catalogue scenario declares its own (a contract test checks)
    shard_shape: Literal["per_asset", "two_phase", "single"] | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _default_history(self) -> ScenarioSpec:
        object.__setattr__(self, "history_days", self.history(self.params_model()))
        return self

    def history_start(self, params: ScenarioParams, as_of: dt.date) -> dt.date:
        """The first date of the history ``params`` need for an analysis on ``as_of``."""
        return as_of - dt.timedelta(days=self.history(params))

    @computed_field(description="JSON Schema of the scenario's inputs (Params)")  # type: ignore[prop-decorator]
    @property
    def inputs(self) -> dict[str, Any]:
        return self.params_model.model_json_schema()


#: the history of a spec that does not size its own (stand-ins in tests)
UNSIZED_HISTORY_DAYS = 400
#: fundamentals reported up to this many days before the history's start are read too, so the
#: latest quarter and four quarters of flows are known at its first date
FUNDAMENTALS_LOOKBACK_DAYS = 400
#: calendar days per trading session, with room for holidays and market closures
DAYS_PER_SESSION = 1.5
#: calendar days added to every history window (a long closure, a late first print)
HISTORY_SLACK_DAYS = 14
#: calendar days per quarterly report, and the delay of a report after its quarter
DAYS_PER_QUARTER = 92
REPORT_DELAY_DAYS = 90
#: relative weight below which a recursive filter's starting value is considered forgotten
WARMUP_TOLERANCE = 1e-9


def sessions_to_days(sessions: int) -> int:
    """Calendar days before ``as_of`` that surely hold ``sessions`` trading sessions.

    A year has about 252 sessions in 365 days; 1.5 days a session plus 14 leaves room for
    holidays and closures (252 sessions -> 392 days).
    """
    return math.ceil(sessions * DAYS_PER_SESSION) + HISTORY_SLACK_DAYS


def reports_to_days(reports: int) -> int:
    """Calendar days before ``as_of`` that surely hold the last ``reports`` quarterly reports."""
    return reports * DAYS_PER_QUARTER + REPORT_DELAY_DAYS + HISTORY_SLACK_DAYS


def warmup_sessions(decay: float, tolerance: float = WARMUP_TOLERANCE) -> int:
    """Sessions after which a recursion with this decay has forgotten its seed to ``tolerance``.

    Wilder smoothing with period n has decay ``1 - 1/n`` (about 280 sessions for n = 14); an
    EWMA with lambda 0.94 about 335. Loading this much extra history makes the result match a
    full-history computation to well within the 6 significant digits reported.
    """
    return math.ceil(math.log(tolerance) / math.log(decay))


class Catalogue(BaseModel):
    """``GET /analysis/scenarios``: every scenario card (a spec with its ``inputs`` schema)."""

    scenarios: list[ScenarioSpec]


@dataclass(frozen=True)
class ScenarioData:
    """The frames a scenario reads (schemas in :mod:`scenarios.frames`); absent ones are None."""

    prices: pd.DataFrame
    fundamentals: pd.DataFrame | None = None
    earnings: pd.DataFrame | None = None
    macro: pd.DataFrame | None = None
    sentiment: pd.DataFrame | None = None
    sectors: pd.DataFrame | None = None
    #: membership intervals of the requested universe (every symbol that was a member at any
    #: time in the window loaded); scenarios select the members at each date they analyse
    universe: pd.DataFrame | None = None
    #: share splits (schema ``scenarios.frames.SPLITS``) for split-consistent market caps
    splits: pd.DataFrame | None = None


class Claim(BaseModel):
    """One sentence of the narrative and the table cell it was computed from."""

    text: str
    row: str | None = Field(None, description="symbol (or row key) the claim refers to")
    field: str | None = Field(None, description="column of the table the claim refers to")


class DataQuality(BaseModel):
    """What was dropped and why: never silent."""

    assets_requested: int = 0
    assets_used: int = 0
    rows_in: int = 0
    rows_dropped: int = 0
    dropped: dict[str, str] = Field(default_factory=dict, description="symbol -> reason")
    notes: list[str] = Field(default_factory=list)


class Column(BaseModel):
    name: str
    label: str
    kind: Literal["text", "number", "percent", "integer", "date"] = "number"
    description: str = ""


class Series(BaseModel):
    """Chart-ready series: x values and one or more named y lines."""

    name: str
    kind: Literal["line", "bar"] = "line"
    x: list[Any]
    y: dict[str, list[float | None]]


class ScenarioResult(BaseModel):
    scenario_id: str
    as_of: dt.date
    summary: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    series: list[Series] = Field(default_factory=list)
    narrative: list[Claim] = Field(default_factory=list)
    data_quality: DataQuality = Field(default_factory=DataQuality)


class ScenarioInputError(ValueError):
    """The data cannot answer the request (empty universe, as_of outside data, ...).

    ``field`` names the input at fault so the API can return a 4xx naming it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
