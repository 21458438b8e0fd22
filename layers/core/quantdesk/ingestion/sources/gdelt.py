"""``gdelt``: daily news tone per symbol from the GDELT DOC 2.0 API (keyless).

Each symbol is searched by a query built from its company name (``options.companies``:
``{"AAPL": "Apple Inc."}`` -> ``"Apple"``, legal suffixes dropped; ``options.queries`` gives a
query verbatim instead). Two timelines per symbol over the same window: ``timelinetone``
(average tone of the matching articles) and ``timelinevolraw`` (how many articles). A day's
``score`` is the article-weighted average tone / 10, clipped to [-1, 1] (GDELT's tone is a
percentage difference of positive and negative words, in practice within about +-10);
``mentions`` is the number of articles. A UTC day's tone is complete only when the day is over,
so its row is dated the **next** day (no look-ahead into the evening's news); days without any
article give no row.

Polite: GDELT asks for at most one request every five seconds, so a run covers at most
:data:`MAX_SYMBOLS` symbols (about ten seconds each, within the fetch Lambda's 15 minutes);
split larger lists over several ``gdelt`` entries of the schedule. The API searches only the last
three months. Incremental: a symbol is fetched from the day after its last stored row.
A symbol the API keeps refusing, or answers with an error text instead of JSON, is reported as
an issue naming the symbol and query; none of its rows are written; the others load.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import pandas as pd

from quantdesk.datalake.reader import Lake
from quantdesk.ingestion.errors import SourceConfigError
from quantdesk.ingestion.sources.base import Batch, FetchRequest
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.per_item import MalformedPayload, fetch_each
from quantdesk.ingestion.sources.watermark import Watermark, last_dates

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore

BASE_URL: Final = "https://api.gdeltproject.org/api/v2/doc/doc"
MIN_INTERVAL_S: Final = 5.0
MAX_SYMBOLS: Final = 80
#: the DOC API's search window
MAX_DAYS: Final = 90
TONE_SCALE: Final = 10.0
STAMP: Final = "%Y%m%d%H%M%S"
LEGAL_SUFFIX: Final = re.compile(
    r"[,\s]+(inc|incorporated|corp|corporation|co|company|ltd|limited|plc|llc|lp|sa|nv|ag|se|"
    r"holdings?|group|the|class [a-z])\.?$",
    re.IGNORECASE,
)


def company_query(name: str) -> str:
    """``"Apple Inc."`` -> ``'"Apple"'``: the company name without legal suffixes, as a phrase."""
    core = name.strip()
    while True:
        shorter = LEGAL_SUFFIX.sub("", core).strip(" ,.")
        if shorter == core or not shorter:
            break
        core = shorter
    if not core:
        raise SourceConfigError(f"gdelt: no query can be built from company name {name!r}")
    return f'"{core}"'


def parse_timeline(body: bytes) -> pd.DataFrame:
    """A timeline answer as (at, value) rows; an empty search gives no rows."""
    try:
        payload = json.loads(body)
        timeline = payload.get("timeline", []) if isinstance(payload, dict) else None
        if timeline is None or not isinstance(timeline, list):
            raise TypeError("no timeline list")
        points = timeline[0]["data"] if timeline else []
        frame = pd.DataFrame.from_records(points, columns=["date", "value"])
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        excerpt = body[:120].decode("utf-8", errors="replace").strip()
        raise MalformedPayload(f"{type(exc).__name__}: {exc}; answer began {excerpt!r}") from exc
    at = pd.to_datetime(frame["date"], format="%Y%m%dT%H%M%SZ", errors="coerce")
    value = pd.to_numeric(frame["value"], errors="coerce")
    if at.isna().any() or value.isna().any():
        raise MalformedPayload("timeline points without a YYYYMMDDTHHMMSSZ date or numeric value")
    return pd.DataFrame({"at": at, "value": value})


def daily_sentiment(symbol: str, tone: pd.DataFrame, volume: pd.DataFrame) -> pd.DataFrame:
    """Article-weighted daily tone and article counts, dated the day after the UTC day."""
    joined = tone.merge(volume, on="at", suffixes=("_tone", "_articles"))
    joined = joined[joined["value_articles"] > 0]
    day = joined["at"].dt.normalize()
    weighted = (joined["value_tone"] * joined["value_articles"]).groupby(day).sum()
    articles = joined["value_articles"].groupby(day).sum()
    out = pd.DataFrame(
        {
            "date": articles.index + pd.Timedelta(days=1),
            "symbol": symbol,
            "score": (weighted / articles / TONE_SCALE).clip(-1, 1).round(4).to_numpy(),
            "mentions": articles.to_numpy(dtype=float),
        }
    )
    return out.reset_index(drop=True)


class GdeltSource:
    """GDELT over HTTP. ``options``: ``companies`` or ``queries`` (by symbol), ``days``."""

    name = "gdelt"

    def __init__(
        self,
        http: VendorHttp | None = None,
        lake: Lake | None = None,
        now: Callable[[], dt.datetime] | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        self.http = http or VendorHttp("GDELT", min_interval_s=MIN_INTERVAL_S)
        self._lake = lake
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.base_url = base_url

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # the news never stops

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        if request.datasets and "sentiment" not in request.datasets:
            raise SourceConfigError("gdelt only provides the sentiment dataset")
        queries = self.queries(request)
        today = pd.Timestamp(self.now().date())
        days = int(request.options.get("days", MAX_DAYS))
        earliest = today - pd.Timedelta(days=min(max(days, 1), MAX_DAYS))
        watermark = self.watermark()

        def one(symbol: str) -> pd.DataFrame | None:
            since = watermark.since(symbol)  # rows are dated the day after the day covered
            start = max(earliest, since) if since is not None else earliest
            return self._symbol(symbol, queries[symbol], start, today) if start < today else None

        frames, issues = fetch_each(
            queries, one, lambda symbol: f"GDELT symbol={symbol} query={queries[symbol]}"
        )
        empty = pd.DataFrame(columns=["date", "symbol", "score", "mentions"])
        return Batch(
            source=self.name,
            frames={"sentiment": pd.concat(frames, ignore_index=True) if frames else empty},
            metadata={"vendor": "GDELT Project DOC 2.0 API", "symbols": len(queries)},
            issues=issues,
        )

    def _symbol(
        self, symbol: str, query: str, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        window = {
            "query": query,
            "format": "json",
            "startdatetime": start.strftime(STAMP),
            "enddatetime": end.strftime(STAMP),
        }
        tone = parse_timeline(self.http.get(self.base_url, {**window, "mode": "timelinetone"}).body)
        volume = parse_timeline(
            self.http.get(self.base_url, {**window, "mode": "timelinevolraw"}).body
        )
        out = daily_sentiment(symbol, tone, volume)
        out = out[(out["date"] > start) & (out["date"] <= end)]
        out["_query"] = query  # the vendor's identifier rides along to quarantine
        return out

    def queries(self, request: FetchRequest) -> dict[str, str]:
        given = request.options.get("queries") or {}
        companies = request.options.get("companies") or {}
        if not isinstance(given, dict) or not isinstance(companies, dict):
            raise SourceConfigError("gdelt: options.companies/queries map symbols to text")
        queries = {str(s).upper(): company_query(str(n)) for s, n in companies.items()}
        queries.update({str(s).upper(): str(q) for s, q in given.items()})
        if not queries:
            raise SourceConfigError(
                'gdelt needs options.companies, e.g. {"AAPL": "Apple Inc."} (or options.queries)'
            )
        if len(queries) > MAX_SYMBOLS:
            raise SourceConfigError(
                f"gdelt: {len(queries)} symbols in one run; at most {MAX_SYMBOLS} (GDELT allows "
                "one request every 5 s): split them over several gdelt sources"
            )
        return queries

    def watermark(self) -> Watermark:
        if self._lake is None:
            self._lake = Lake.from_settings()
        return last_dates(self._lake, "sentiment", by="symbol")
