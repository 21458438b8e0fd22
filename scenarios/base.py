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
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

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
    #: calendar days of history needed before ``as_of`` (the worker loads this window)
    history_days: int = 400
    params_model: type[ScenarioParams] = Field(exclude=True)

    @computed_field(description="JSON Schema of the scenario's inputs (Params)")  # type: ignore[prop-decorator]
    @property
    def inputs(self) -> dict[str, Any]:
        return self.params_model.model_json_schema()


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
