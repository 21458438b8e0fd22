"""SEC EDGAR XBRL ``companyfacts`` -> quarterly ``fundamentals`` rows, point in time.

``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json`` is
``{"cik", "entityName", "facts": {taxonomy: {tag: {"units": {unit: [fact, ...]}}}}}`` where a
fact is ``{"start"?, "end", "val", "accn", "fy", "fp", "form", "filed", "frame"?}``: every value
every filing reported, including the prior-period comparatives of later filings and restatements.

Rules (each one keeps a value usable only from the day it was public):

* only 10-Q / 10-K filings (and their amendments) count; ``report_date`` is the filing date
  ``filed`` — point in time by construction;
* a value is taken from the **first** filing that reported it (earliest ``filed``); later
  comparatives and restatements never rewrite history (a restated quarter keeps its original);
* ``revenue`` and ``net_income`` are three-month durations (80-100 days). The fourth fiscal
  quarter, which a 10-K reports only for the year (350-380 days), is the year minus the three
  quarters inside it, reported when the 10-K was filed, and only when those three are known;
* balance-sheet columns are instants at the quarter's end;
* a row is a quarter end with revenue or net income; its ``report_date`` is the latest filing
  date among the values it uses (the day the whole row was known); a column no tag reports is
  left empty and validation quarantines that row (``missing_<column>``), never a guessed value.

Tags, first present wins per quarter (companies change tags over the years):

==================  =========================================================================
revenue             Revenues, RevenueFromContractWithCustomerExcludingAssessedTax,
                    RevenueFromContractWithCustomerIncludingAssessedTax, SalesRevenueNet,
                    SalesRevenueGoodsNet
net_income          NetIncomeLoss, ProfitLoss
book_equity         StockholdersEquity,
                    StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest
total_assets        Assets
total_debt          DebtLongtermAndShorttermCombinedAmount, LongTermDebt (current portion
                    included), LongTermDebtNoncurrent
shares_outstanding  CommonStockSharesOutstanding; else the cover page's
                    dei:EntityCommonStockSharesOutstanding of the same filing
==================  =========================================================================

All tags are ``us-gaap`` in USD (shares in ``shares``). Every row carries the vendor's ids
``_cik`` and ``_accn`` (the filing of its revenue or net income) into quarantine.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

import pandas as pd

from quantdesk.ingestion.errors import MalformedPayloadError
from scenarios.frames import FUNDAMENTALS

GAAP: Final = "us-gaap"
TAGS: Final[dict[str, tuple[str, ...]]] = {
    "revenue": (
        "Revenues",
        "RevenueFromContractWithCustomerExcludingAssessedTax",
        "RevenueFromContractWithCustomerIncludingAssessedTax",
        "SalesRevenueNet",
        "SalesRevenueGoodsNet",
    ),
    "net_income": ("NetIncomeLoss", "ProfitLoss"),
    "book_equity": (
        "StockholdersEquity",
        "StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest",
    ),
    "total_assets": ("Assets",),
    "total_debt": (
        "DebtLongtermAndShorttermCombinedAmount",
        "LongTermDebt",
        "LongTermDebtNoncurrent",
    ),
    "shares_outstanding": ("CommonStockSharesOutstanding",),
}
DURATIONS: Final = ("revenue", "net_income")
COVER_SHARES: Final = ("dei", "EntityCommonStockSharesOutstanding")
QUARTER_DAYS: Final = (80, 100)
YEAR_DAYS: Final = (350, 380)
FACT_FIELDS: Final = ("end", "val", "accn", "form", "filed")
FACT_COLUMNS: Final = ("rank", "start", "end", "val", "accn", "filed")


def _unit(column: str) -> str:
    return "shares" if column == "shares_outstanding" else "USD"


def _facts(doc: dict[str, Any], taxonomy: str, tag: str, unit: str, body: bytes) -> list[Any]:
    concept = doc["facts"].get(taxonomy, {}).get(tag)
    if concept is None:
        return []
    if not isinstance(concept, dict) or not isinstance(concept.get("units"), dict):
        raise MalformedPayloadError(f"edgar: {taxonomy}:{tag} has no units", body)
    facts = concept["units"].get(unit, [])
    if not isinstance(facts, list):
        raise MalformedPayloadError(f"edgar: {taxonomy}:{tag} {unit} is not a list", body)
    for fact in facts:
        if not isinstance(fact, dict) or any(f not in fact for f in FACT_FIELDS):
            raise MalformedPayloadError(f"edgar: a {taxonomy}:{tag} fact lacks {FACT_FIELDS}", body)
    return facts


def _frame(
    doc: dict[str, Any], taxonomy: str, tags: tuple[str, ...], unit: str, body: bytes
) -> pd.DataFrame:
    """Facts of 10-Q/10-K filings for the tags (``rank`` = the tag's priority)."""
    rows = [
        (rank, f.get("start"), f["end"], f["val"], f["accn"], f["filed"])
        for rank, tag in enumerate(tags)
        for f in _facts(doc, taxonomy, tag, unit, body)
        if str(f["form"]).startswith(("10-Q", "10-K"))
    ]
    frame = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
    for column in ("start", "end", "filed"):
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    frame["val"] = pd.to_numeric(frame["val"], errors="coerce")
    broken = frame[["end", "filed", "val"]].isna().any(axis=1)
    if broken.any():
        raise MalformedPayloadError(f"edgar: unparseable {taxonomy} facts ({tags[0]}...)", body)
    return frame


def _first_reported(facts: pd.DataFrame) -> pd.DataFrame:
    """Per period end, the value of the earliest filing (then the preferred tag)."""
    ordered = facts.sort_values(["end", "filed", "rank"], kind="stable")
    return ordered.drop_duplicates("end", keep="first").set_index("end")


def _quarters(facts: pd.DataFrame) -> pd.DataFrame:
    """Three-month values per quarter end, the fourth quarter derived from the year."""
    days = (facts["end"] - facts["start"]).dt.days
    quarters = _first_reported(facts[days.between(*QUARTER_DAYS)])
    years = _first_reported(facts[days.between(*YEAR_DAYS)])
    derived = []
    for end, year in years.iterrows():
        if end in quarters.index:
            continue
        inside = quarters[
            (quarters["start"] >= year["start"] - dt.timedelta(days=7)) & (quarters.index < end)
        ]
        if len(inside) != 3:
            continue
        derived.append(
            {
                "end": end,
                "val": year["val"] - inside["val"].sum(),
                "accn": year["accn"],
                "filed": max(year["filed"], inside["filed"].max()),
            }
        )
    if derived:
        quarters = pd.concat([quarters, pd.DataFrame(derived).set_index("end")])
    return quarters[["val", "accn", "filed"]]


def _instants(facts: pd.DataFrame) -> pd.DataFrame:
    return _first_reported(facts[facts["start"].isna()])[["val", "accn", "filed"]]


def parse_companyfacts(symbol: str, body: bytes) -> pd.DataFrame:
    """One companyfacts payload -> fundamentals rows (+ ``_cik``, ``_accn``), oldest first;
    raises :class:`MalformedPayloadError` unless every fact used parses."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise MalformedPayloadError(f"edgar: not JSON for {symbol}: {exc}", body) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("facts"), dict):
        raise MalformedPayloadError(f"edgar: no 'facts' object for {symbol}", body)
    columns: dict[str, pd.DataFrame] = {}
    for column, tags in TAGS.items():
        facts = _frame(doc, GAAP, tags, _unit(column), body)
        columns[column] = _quarters(facts) if column in DURATIONS else _instants(facts)
    cover = _frame(doc, COVER_SHARES[0], COVER_SHARES[1:], "shares", body)
    cover = cover.sort_values("filed").drop_duplicates("accn").set_index("accn")
    ends = columns["revenue"].index.union(columns["net_income"].index).sort_values()
    out = pd.DataFrame(index=ends)
    filed = pd.DataFrame(index=ends)
    for column, values in columns.items():
        out[column] = values["val"].reindex(ends)
        filed[column] = values["filed"].reindex(ends)
    accn = (
        columns["revenue"]["accn"].reindex(ends).fillna(columns["net_income"]["accn"].reindex(ends))
    )
    from_cover = out["shares_outstanding"].isna() & accn.isin(cover.index)
    out.loc[from_cover, "shares_outstanding"] = cover["val"].reindex(accn[from_cover]).to_numpy()
    filed.loc[from_cover, "shares_outstanding"] = (
        cover["filed"].reindex(accn[from_cover]).to_numpy()
    )
    out["report_date"] = filed.max(axis=1)
    out["symbol"] = symbol
    out["_cik"] = f"CIK{int(doc.get('cik', 0)):010d}" if str(doc.get("cik", "")).isdigit() else ""
    out["_accn"] = accn
    out = out.rename_axis("period_end").reset_index()
    return out[[*FUNDAMENTALS, "_cik", "_accn"]]
