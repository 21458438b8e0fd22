"""``edgar``: fundamentals and sectors from SEC EDGAR (keyless; a contact User-Agent required).

Three endpoints (https://www.sec.gov/search-filings/edgar-application-programming-interfaces):

* ``https://www.sec.gov/files/company_tickers.json`` — ticker -> CIK
  (``{"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}``);
* ``https://data.sec.gov/submissions/CIK##########.json`` — the company's SIC code
  (``sic``, ``sicDescription``) -> a ``sectors`` row (:mod:`.sic_sectors` states the mapping;
  ``industry`` is SEC's SIC description) and its recent filings (``filings.recent``: parallel
  lists ``form``, ``filingDate``, ...);
* ``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json`` -> ``fundamentals``
  (:mod:`.edgar_facts`: report date = filing date, point in time).

Incremental: a company's companyfacts (megabytes) is fetched only when its submissions list a
10-Q/10-K filed after the last ``report_date`` the lake holds for it, and only rows reported
after that date are kept. SEC asks for at most 10 requests a second and a User-Agent naming a
contact (e.g. ``"Example Research admin@example.org"``): the SSM parameter
``/<stack>/vendor/edgar-user-agent`` on a deployed stage, or ``QD_EDGAR_USER_AGENT``; without
one the source refuses to run. ``options``: ``symbols``, ``universes`` (as the price sources),
``ciks`` (``{symbol: cik}``, skips the ticker list).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.sources import lake_state
from quantdesk.ingestion.sources.base import Batch, FetchRequest, FileIssue
from quantdesk.ingestion.sources.edgar_facts import parse_companyfacts
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.sic_sectors import sector_of
from quantdesk.ingestion.sources.vendor_batch import VendorBatch
from quantdesk.ingestion.sources.vendor_settings import edgar_user_agent, get_vendor_settings

if TYPE_CHECKING:
    from quantdesk.datalake.reader import Lake
    from quantdesk.datalake.repository import LakeObjectStore

TICKERS_URL: Final = "https://www.sec.gov/files/company_tickers.json"
DATA_URL: Final = "https://data.sec.gov"
DATASETS: Final = ("fundamentals", "sectors")
PERIODIC_FORMS: Final = ("10-Q", "10-K")


def cik_id(cik: object) -> str:
    return f"CIK{int(str(cik)):010d}"


def parse_tickers(body: bytes) -> dict[str, str]:
    """``company_tickers.json`` -> {ticker: CIK##########} (``BRK-B`` also as ``BRK.B``)."""
    try:
        doc = json.loads(body)
        out = {}
        for entry in doc.values():
            ticker = str(entry["ticker"]).upper()
            out[ticker] = out[ticker.replace("-", ".")] = cik_id(entry["cik_str"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MalformedPayloadError(f"edgar: unreadable ticker list: {exc}", body) from exc
    return out


def parse_submissions(symbol: str, body: bytes) -> tuple[pd.DataFrame, dt.date | None]:
    """A submissions payload -> (its ``sectors`` row with ``_cik``/``_sic``, the latest
    10-Q/10-K filing date)."""
    try:
        doc = json.loads(body)
        sic = str(doc["sic"] or "").strip()
        description = str(doc.get("sicDescription") or "").strip()
        recent = doc["filings"]["recent"]
        periodic = [
            d
            for form, d in zip(recent["form"], recent["filingDate"], strict=True)
            if str(form).startswith(PERIODIC_FORMS)
        ]
        latest = max(dt.date.fromisoformat(d) for d in periodic) if periodic else None
        cik = cik_id(doc["cik"])
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedPayloadError(
            f"edgar: unreadable submissions for {symbol}: {exc}", body
        ) from exc
    row = {
        "symbol": symbol,
        "sector": sector_of(sic),
        "industry": description or None,
        "_cik": cik,
        "_sic": sic,
    }
    return pd.DataFrame([row]), latest


class EdgarSource:
    """SEC EDGAR: ``fundamentals`` (companyfacts) and ``sectors`` (submissions' SIC)."""

    name = "edgar"

    def __init__(self, http: VendorHttp | None = None, lake: Lake | None = None) -> None:
        self.http = http
        self.lake = lake

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # new filings arrive any day: always ask

    def _client(self) -> VendorHttp:
        if self.http is not None:
            return self.http
        settings = get_vendor_settings()
        contact = edgar_user_agent(settings)
        if "@" not in contact:
            raise SourceConfigError(
                "edgar: SEC requires a contact in the User-Agent, e.g. 'Example Research "
                "admin@example.org': put it in the SSM parameter <stack path>/edgar-user-agent "
                "or set QD_EDGAR_USER_AGENT"
            )
        return VendorHttp(
            "SEC EDGAR", user_agent=contact, min_interval_s=settings.edgar_min_interval_s
        )

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        wanted = request.datasets or list(DATASETS)
        unknown = sorted(set(wanted) - set(DATASETS))
        if unknown:
            raise SourceConfigError(f"edgar provides {', '.join(DATASETS)}, not {unknown}")
        http = self._client()
        lake = self.lake or lake_state.lake_for(landing)
        symbols = lake_state.symbols_for(request, lake)
        reported = lake_state.last_report_dates(lake) if "fundamentals" in wanted else {}
        collected = VendorBatch(self.name, budget_s=get_vendor_settings().fetch_budget_s)
        ciks = self._ciks(request, http, collected)
        if ciks is None:  # the ticker list itself failed: nothing to map symbols with
            return collected.batch({"vendor": "SEC EDGAR (data.sec.gov)"})
        unchanged = 0
        for symbol in symbols:
            cik = ciks.get(symbol)
            if cik is None:
                collected.issues.append(self._unknown(symbol, wanted))
                continue
            latest: list[dt.date | None] = [None]

            def submissions(
                symbol: str = symbol, cik: str = cik, latest: list[Any] = latest
            ) -> pd.DataFrame:
                row, latest[0] = parse_submissions(
                    symbol, http.get(f"{DATA_URL}/submissions/{cik}.json").body
                )
                return row

            # submissions also date the latest filing, so they are read for fundamentals too
            collected.attempt(
                "sectors",
                f"edgar submissions {cik} ({symbol})",
                submissions,
                keep="sectors" in wanted,
            )
            if "fundamentals" not in wanted:
                continue
            since = reported.get(symbol)
            if since is not None and latest[0] is not None and latest[0] <= since:
                unchanged += 1
                continue

            def facts(
                symbol: str = symbol, cik: str = cik, since: dt.date | None = since
            ) -> pd.DataFrame:
                url = f"{DATA_URL}/api/xbrl/companyfacts/{cik}.json"
                rows = parse_companyfacts(symbol, http.get(url).body)
                return rows if since is None else rows[rows["report_date"] > pd.Timestamp(since)]

            collected.attempt("fundamentals", f"edgar companyfacts {cik} ({symbol})", facts)
        notes = [f"{unchanged} companies without a new 10-Q/10-K: not fetched"] if unchanged else []
        metadata = {
            "vendor": "SEC EDGAR (data.sec.gov)",
            "requests": http.requests_sent,
            "notes": notes,
        }
        return collected.batch(metadata)

    def _ciks(
        self, request: FetchRequest, http: VendorHttp, collected: VendorBatch
    ) -> dict[str, str] | None:
        given = request.options.get("ciks")
        if given:
            return {str(s).upper(): cik_id(c) for s, c in dict(given).items()}
        found: dict[str, str] = {}

        def tickers() -> None:
            found.update(parse_tickers(http.get(TICKERS_URL).body))

        issues = len(collected.issues)
        collected.attempt("sectors", "edgar company_tickers.json", tickers)
        return None if len(collected.issues) > issues else found

    @staticmethod
    def _unknown(symbol: str, wanted: list[str]) -> FileIssue:
        return FileIssue(
            file=f"edgar {symbol}",
            reason="unknown_at_vendor",
            detail="no CIK for this ticker in SEC's company_tickers.json (pass options.ciks)",
            dataset=",".join(wanted),
        )
