"""``tiingo``: end-of-day prices from Tiingo (free API key).

``GET https://api.tiingo.com/tiingo/daily/<ticker>/prices?startDate=YYYY-MM-DD`` with the
header ``Authorization: Token <key>`` answers a JSON list, oldest first, of
``{"date": "2024-01-02T00:00:00.000Z", "open", "high", "low", "close", "volume", "adjOpen",
"adjHigh", "adjLow", "adjClose", "adjVolume", "divCash", "splitFactor"}``; an unknown ticker is
a 404 ``{"detail": "Error: Ticker 'X' not found"}``.

The lake gets the adjusted fields (``adj*``, the canonical adjusted prices of
:mod:`scenarios.frames`); the raw zone keeps the unadjusted ones with dividends and split
factors (``extras["prices_unadjusted"]``). The key is read from SSM Parameter Store or Secrets
Manager (:mod:`.vendor_settings`: ``<stack path>/tiingo-key`` on a deployed stage, or where
``QD_TIINGO_KEY_NAME`` says), never from code or settings; it travels in a header, so it never
appears in URLs, messages or logs.

Symbols and incremental fetches as :mod:`quantdesk.ingestion.sources.stooq` (from the lake's
last date; a changed close on that day, i.e. a re-based adjusted history, fetches it whole).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.sources import daily_prices, lake_state
from quantdesk.ingestion.sources.base import Batch, FetchRequest
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.vendor_settings import (
    get_vendor_settings,
    read_key,
    tiingo_key_location,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from quantdesk.datalake.reader import Lake
    from quantdesk.datalake.repository import LakeObjectStore

BASE_URL: Final = "https://api.tiingo.com/tiingo/daily"
ADJUSTED: Final = {
    "adjOpen": "open",
    "adjHigh": "high",
    "adjLow": "low",
    "adjClose": "close",
    "adjVolume": "volume",
}
UNADJUSTED: Final = ("open", "high", "low", "close", "volume", "divCash", "splitFactor")
NOT_FOUND: Final = 404


def parse_prices(symbol: str, body: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One Tiingo answer -> (adjusted price rows, unadjusted rows with corporate actions);
    raises :class:`MalformedPayloadError` unless every record has every field."""
    try:
        records = json.loads(body)
    except ValueError as exc:
        raise MalformedPayloadError(f"tiingo: not JSON for {symbol}: {exc}", body) from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise MalformedPayloadError(f"tiingo: expected a list of records for {symbol}", body)
    needed = {"date", *ADJUSTED, *UNADJUSTED}
    for line, record in enumerate(records):
        missing = sorted(needed - set(record))
        if missing:
            raise MalformedPayloadError(
                f"tiingo: record {line} for {symbol} lacks {', '.join(missing)}", body
            )
    raw = pd.DataFrame(records, columns=sorted(needed))
    dates = pd.to_datetime(raw["date"], errors="coerce", utc=True).dt.tz_localize(None)
    numbers = raw[[*ADJUSTED, *UNADJUSTED]].apply(pd.to_numeric, errors="coerce")
    if dates.isna().any() or numbers[list(ADJUSTED)[:4]].isna().any().any():
        raise MalformedPayloadError(f"tiingo: unparseable values for {symbol}", body)
    prices = numbers[list(ADJUSTED)].rename(columns=ADJUSTED)
    prices.insert(0, "symbol", symbol)
    prices.insert(0, "date", dates.dt.normalize())
    unadjusted = numbers[list(UNADJUSTED)].copy()
    unadjusted.insert(0, "symbol", symbol)
    unadjusted.insert(0, "date", dates.dt.normalize())
    return prices, unadjusted


class TiingoSource:
    """Tiingo daily prices. ``options``: ``symbols``, ``universes``, ``start`` (ISO date)."""

    name = "tiingo"

    def __init__(
        self,
        http: VendorHttp | None = None,
        lake: Lake | None = None,
        key: Callable[[], str] | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        self.http = http
        self.lake = lake
        self.key = key or (
            lambda: read_key(tiingo_key_location(get_vendor_settings()), what="tiingo")
        )
        self.base_url = base_url

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # a new trading day is new data: always fetch

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        lake = daily_prices.prices_lake(self.name, request, self.lake, landing)
        symbols = lake_state.symbols_for(request, lake)
        headers = {"Authorization": f"Token {self.key()}", "Content-Type": "application/json"}
        http = self.http or VendorHttp(
            "Tiingo", min_interval_s=get_vendor_settings().tiingo_min_interval_s
        )
        unadjusted: list[pd.DataFrame] = []

        def get(symbol: str, since: object | None) -> pd.DataFrame:
            params = {"startDate": str(since)} if since else {}
            url = f"{self.base_url}/{symbol.lower().replace('.', '-')}/prices"
            answer = http.get(url, params, headers=headers, accept=(NOT_FOUND,))
            if answer.status == NOT_FOUND:
                raise SourceConfigError(f"tiingo: unknown ticker {symbol}")
            prices, raw = parse_prices(symbol, answer.body)
            unadjusted.append(raw)
            return prices

        collected, notes = daily_prices.fetch_incrementally(
            self.name, request, lake, symbols, get=get, ident=lambda symbol: f"tiingo {symbol}"
        )
        metadata: dict[str, Any] = {
            "vendor": "Tiingo (api.tiingo.com), adjusted daily prices",
            "requests": http.requests_sent,
            "notes": notes,
        }
        extras = {"prices_unadjusted": pd.concat(unadjusted)} if unadjusted else {}
        return collected.batch(metadata, extras)
