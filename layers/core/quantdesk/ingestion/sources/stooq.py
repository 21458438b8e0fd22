"""``stooq``: end-of-day prices from Stooq's keyless CSV download.

``GET https://stooq.com/q/d/l/?s=<ticker>.us&i=d[&d1=YYYYMMDD]`` answers
``Date,Open,High,Low,Close,Volume`` (one line per trading day, oldest first; prices adjusted for
splits and dividends by Stooq), the text ``No data`` for an unknown ticker or an empty window,
and ``Exceeded the daily hits limit`` once the (per IP) daily quota is used up.

Symbols: ``options.symbols``, else the open members of ``options.universes`` (default: every
universe) in the lake. Incremental: a symbol the lake already holds is fetched from its last
date on; when the vendor's close on that overlapping day differs from the lake's (a dividend or
split re-based the adjusted history) the symbol's whole history is fetched again so the lake
never mixes two adjustment bases. ``options.start`` (ISO date) bounds a first fetch.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.ingestion.errors import MalformedPayloadError, SourceUnavailableError
from quantdesk.ingestion.sources import daily_prices, lake_state
from quantdesk.ingestion.sources.base import Batch, FetchRequest
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.vendor_settings import get_vendor_settings

if TYPE_CHECKING:
    from quantdesk.datalake.reader import Lake
    from quantdesk.datalake.repository import LakeObjectStore

BASE_URL: Final = "https://stooq.com/q/d/l/"
HEADER: Final = ("date", "open", "high", "low", "close")
NO_DATA: Final = b"No data"
QUOTA: Final = b"Exceeded the daily hits limit"


def stooq_ticker(symbol: str) -> str:
    """Our symbol -> Stooq's US ticker (``BRK.B`` -> ``brk-b.us``)."""
    return symbol.lower().replace(".", "-") + ".us"


def parse_prices(symbol: str, body: bytes) -> pd.DataFrame:
    """One Stooq daily CSV answer -> price rows (empty for ``No data``); raises
    :class:`MalformedPayloadError` unless the whole payload parses."""
    text = body.strip()
    if text.startswith(QUOTA):
        raise SourceUnavailableError("stooq: daily hits limit exceeded")
    if not text or text.startswith(NO_DATA):
        return pd.DataFrame(columns=["date", "symbol", "open", "high", "low", "close", "volume"])
    try:
        raw = pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise MalformedPayloadError(f"stooq: unreadable CSV for {symbol}: {exc}", body) from exc
    columns = [str(c).strip().lower() for c in raw.columns]
    if tuple(columns[: len(HEADER)]) != HEADER:
        raise MalformedPayloadError(f"stooq: unexpected columns for {symbol}: {columns}", body)
    raw.columns = columns
    out = pd.DataFrame({"date": pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")})
    out["symbol"] = symbol
    for column in ("open", "high", "low", "close", "volume"):
        values = raw[column] if column in raw else pd.Series("0", index=raw.index)
        out[column] = pd.to_numeric(values, errors="coerce")
    bad = out["date"].isna() | out[["open", "high", "low", "close"]].isna().any(axis=1)
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise MalformedPayloadError(f"stooq: unparseable values for {symbol} (line {line})", body)
    return out


class StooqSource:
    """Stooq daily CSV. ``options``: ``symbols``, ``universes``, ``start`` (ISO date)."""

    name = "stooq"

    def __init__(
        self, http: VendorHttp | None = None, lake: Lake | None = None, base_url: str = BASE_URL
    ) -> None:
        self.http = http
        self.lake = lake
        self.base_url = base_url

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # a new trading day is new data: always fetch

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        lake = daily_prices.prices_lake(self.name, request, self.lake, landing)
        http = self.http or VendorHttp(
            "Stooq", min_interval_s=get_vendor_settings().stooq_min_interval_s
        )
        collected, notes = daily_prices.fetch_incrementally(
            self.name,
            request,
            lake,
            lake_state.symbols_for(request, lake),
            get=lambda symbol, since: self._get(http, stooq_ticker(symbol), symbol, since),
            ident=lambda symbol: f"stooq {stooq_ticker(symbol)}",
        )
        metadata: dict[str, Any] = {
            "vendor": "Stooq (stooq.com), adjusted daily prices",
            "requests": http.requests_sent,
            "notes": notes,
        }
        return collected.batch(metadata)

    def _get(
        self, http: VendorHttp, ticker: str, symbol: str, since: object | None
    ) -> pd.DataFrame:
        params = {"s": ticker, "i": "d"}
        if since:  # Stooq reads a window only when given both ends
            params["d1"] = pd.Timestamp(str(since)).strftime("%Y%m%d")
            params["d2"] = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
        return parse_prices(symbol, http.get(self.base_url, params).body)
