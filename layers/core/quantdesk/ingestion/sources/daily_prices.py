"""Daily prices fetched symbol by symbol, incrementally: what the ``stooq`` and ``tiingo`` sources
share.

Each symbol is fetched from the lake's last date on (``options.start``, an ISO date, bounds a
first fetch); when the vendor's close on that overlapping day differs from the lake's (a dividend
or split re-based its adjusted history) the symbol's whole history is fetched again, so the lake
never mixes two adjustment bases. Each symbol is one request of a :class:`VendorBatch`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from quantdesk.ingestion.errors import SourceConfigError
from quantdesk.ingestion.sources import lake_state
from quantdesk.ingestion.sources.vendor_batch import VendorBatch
from quantdesk.ingestion.sources.vendor_settings import get_vendor_settings

if TYPE_CHECKING:
    from quantdesk.datalake.reader import Lake
    from quantdesk.datalake.repository import LakeObjectStore
    from quantdesk.ingestion.sources.base import FetchRequest

#: ``get(symbol, since)``: the vendor's rows for one symbol from ``since`` on (None: all of it)
Get = Callable[[str, object | None], pd.DataFrame]


def prices_lake(
    source: str, request: FetchRequest, lake: Lake | None, landing: LakeObjectStore
) -> Lake:
    """The lake to fetch against (``lake``, else the landing store's), once ``request`` is known
    to ask for prices only."""
    if request.datasets and request.datasets != ["prices"]:
        raise SourceConfigError(f"{source} only provides the prices dataset")
    return lake or lake_state.lake_for(landing)


def fetch_incrementally(
    source: str,
    request: FetchRequest,
    lake: Lake,
    symbols: list[str],
    *,
    get: Get,
    ident: Callable[[str], str],
) -> tuple[VendorBatch, list[str]]:
    """Every symbol's new rows, collected; and the notes for the batch's metadata (the symbols
    whose history the vendor re-based). ``ident`` names a symbol's request in issues."""
    last = lake_state.last_closes(lake)
    start = request.options.get("start")
    collected = VendorBatch(source, budget_s=get_vendor_settings().fetch_budget_s)
    rebased: list[str] = []
    for symbol in symbols:

        def one(symbol: str = symbol) -> pd.DataFrame:
            since = last[symbol][0] if symbol in last else start
            rows, rebase = lake_state.new_rows(get(symbol, since), last.get(symbol))
            if rebase:
                rebased.append(symbol)
                rows = get(symbol, start)
            return rows

        collected.attempt("prices", ident(symbol), one)
    notes = [f"history re-based by the vendor, fetched whole: {', '.join(rebased)}"]
    return collected, notes if rebased else []
