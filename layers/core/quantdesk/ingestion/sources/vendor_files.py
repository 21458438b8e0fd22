"""Vendor payloads saved to disk, read by the ``files`` source exactly as the online sources
read them (one parser per format, shared):

=============================  ==========  =================================================
file                           dataset     symbol from
=============================  ==========  =================================================
EDGAR companyfacts ``.json``   fundamentals  the file name (``AAPL.json``), or its CIK looked
(``{"cik", "facts": ...}``)                up in a submissions file or SEC's
                                           ``company_tickers.json`` dropped alongside
EDGAR submissions ``.json``    sectors     its ``tickers`` (first), else the file name
(``{"cik", "sic", "filings"}``)
SEC ``company_tickers.json``   (none)      maps CIKs to tickers for the files above
Tiingo ``.json`` (list of      prices      the file name (``AAPL.json``)
records with ``adjClose``)
membership changes ``.csv``    universe    the file (``date,universe,symbol,change``)
=============================  ==========  =================================================

Stooq downloads (``aapl.us.txt``, ``Date,Open,High,Low,Close,Volume``) and its bulk files are
CSV layouts of :mod:`.files`. A payload that does not parse whole is reported and kept in
quarantine; none of its rows are written.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any, Final

import pandas as pd

from quantdesk.ingestion.errors import MalformedPayloadError
from quantdesk.ingestion.sources import edgar, edgar_facts, tiingo

CIK_NAME: Final = re.compile(r"^CIK(\d{10})$", re.IGNORECASE)


def _stem(name: str) -> str:
    return posixpath.basename(name).split(".")[0]


def load_json(name: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise MalformedPayloadError(f"{name}: not JSON: {exc}", data) from exc


def kind_of(doc: Any) -> str | None:
    """Which vendor payload a parsed JSON document is (None: not one we know)."""
    if isinstance(doc, dict) and isinstance(doc.get("facts"), dict):
        return "companyfacts"
    if isinstance(doc, dict) and "sic" in doc and "filings" in doc:
        return "submissions"
    if (
        isinstance(doc, dict)
        and doc
        and all(isinstance(v, dict) and {"cik_str", "ticker"} <= set(v) for v in doc.values())
    ):
        return "company_tickers"
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "adjClose" in doc[0]:
        return "tiingo"
    return None


def tickers_by_cik(docs: dict[str, tuple[str, Any]]) -> dict[str, str]:
    """CIK########## -> ticker, from the submissions and ticker lists among ``docs``."""
    out: dict[str, str] = {}
    for kind, doc in docs.values():
        if kind == "company_tickers":
            for entry in doc.values():
                out.setdefault(edgar.cik_id(entry["cik_str"]), str(entry["ticker"]).upper())
        elif kind == "submissions" and doc.get("tickers"):
            out[edgar.cik_id(doc["cik"])] = str(doc["tickers"][0]).upper()
    return out


def parse(
    name: str, kind: str, doc: Any, data: bytes, ciks: dict[str, str]
) -> tuple[str, pd.DataFrame] | None:
    """(dataset, rows) of one vendor JSON file; None for a ticker list. Raises
    :class:`MalformedPayloadError` for a payload that does not parse whole, or whose symbol is
    unknown."""
    stem = _stem(name)
    if kind == "company_tickers":
        return None
    if kind == "submissions":
        tickers = doc.get("tickers") or [stem]
        row, _ = edgar.parse_submissions(str(tickers[0]).upper(), data)
        return "sectors", row
    if kind == "tiingo":
        prices, _ = tiingo.parse_prices(stem.upper(), data)
        return "prices", prices
    symbol = stem.upper()
    if CIK_NAME.match(stem) or stem.isdigit():
        cik = edgar.cik_id(doc.get("cik", CIK_NAME.sub(r"\1", stem)))
        if cik not in ciks:
            raise MalformedPayloadError(
                f"{name}: no ticker for {cik}: drop its submissions file or SEC's "
                "company_tickers.json alongside, or name the file after the ticker",
                data,
            )
        symbol = ciks[cik]
    return "fundamentals", edgar_facts.parse_companyfacts(symbol, data)
