"""Own tickers: prices of symbols the lake does not know register those symbols in a universe.

A researcher's price files are not refused for naming new tickers. Each symbol with valid price
rows that is neither classified (``sectors``) nor a member of any universe becomes a member of
the batch's universe from its first valid price date, open-ended. That universe is the one the
request names (``options.universe``, ``quantdesk ingest --universe NAME``), else one named after
the batch (``options.batch``, the CLI's directory name, else the landing prefix) made safe.

A named universe takes *every* symbol of the batch's prices that was never a member of it,
known or not, so ``--universe NAME`` builds a universe from any set of files. Registered
symbols have no sector until a ``sectors`` file classifies them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

import pandas as pd
from pydantic import BaseModel, Field

from quantdesk.ingestion.errors import SourceConfigError
from scenarios.base import UNIVERSE_PATTERN
from scenarios.frames import SCHEMAS

if TYPE_CHECKING:
    from quantdesk.ingestion.sources.base import FetchRequest

#: the request options that name the universe (explicit) or the batch (a name is derived)
UNIVERSE_OPTION: Final = "universe"
BATCH_OPTION: Final = "batch"
MAX_NAME: Final = 40
#: registered symbols named in the summary
SHOWN: Final = 10


class Target(BaseModel):
    """The universe a batch's new symbols join."""

    name: str = Field(pattern=UNIVERSE_PATTERN)
    explicit: bool = Field(description="named by the request, not derived from the batch")


class Registration(BaseModel):
    """What a batch registered: shown in the summary."""

    universe: str
    symbols: int
    first: list[str] = Field(default_factory=list, description=f"the first {SHOWN} symbols")

    @property
    def message(self) -> str:
        return f"registered {self.symbols} new symbol(s) in universe {self.universe}"


def safe_name(text: str) -> str:
    """A universe name from free text: lower case, ``[a-z0-9_]``, starting with a letter."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not name[:1].isalpha():
        name = f"u_{name}"
    return name[:MAX_NAME].rstrip("_")


def target(request: FetchRequest) -> Target:
    """The universe of this request's new symbols; a bad explicit name is a config error."""
    named = request.options.get(UNIVERSE_OPTION)
    if named is not None:
        if not isinstance(named, str) or not re.match(UNIVERSE_PATTERN, named):
            raise SourceConfigError(
                f"options.universe {named!r} is not a universe name: lower-case letters, "
                f"digits and _, starting with a letter, at most {MAX_NAME} characters"
            )
        return Target(name=named, explicit=True)
    batch = request.options.get(BATCH_OPTION) or (request.prefix or "").rstrip("/")
    batch = str(batch).rsplit("/", 1)[-1] or request.source
    return Target(name=safe_name(batch), explicit=False)


def memberships(prices: pd.DataFrame, universe: str, skip: set[str]) -> pd.DataFrame:
    """Open-ended membership rows of ``universe`` for the symbols of ``prices`` (valid rows)
    not in ``skip``, each from its first price date."""
    first = prices.groupby("symbol", sort=True)["date"].min()
    first = first[~first.index.isin(list(skip))]
    return pd.DataFrame(
        {
            "universe": universe,
            "symbol": first.index.astype(str),
            "start_date": first.to_numpy(),
            "end_date": pd.NaT,
        },
        columns=list(SCHEMAS["universe"]),
    )
