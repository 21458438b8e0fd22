"""``fred``: macro series from FRED (Federal Reserve Bank of St. Louis) over HTTP.

Uses the keyless CSV download ``fredgraph.csv?id=<SERIES>`` (answer ``observation_date,<SERIES>``;
a ``.`` marks a day without an observation). FRED series ids map to our ``MACRO_SERIES``;
CPI (an index level) becomes year-over-year inflation in percent. Values are dated by their
documented publication lag (``release_date``; ALFRED has the real release dates). Enabled by
listing ``fred`` in the ingestion input (see ``infrastructure/resources.py``). Requests go
through the polite ``VendorHttp`` client (rate limit, retries); tests give it a transport
replaying recorded answers.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Final

import pandas as pd

from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError
from quantdesk.ingestion.sources.base import Batch, FetchRequest
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.publication import release_dates

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore

BASE_URL: Final = "https://fred.stlouisfed.org/graph/fredgraph.csv"
#: FRED series id -> our macro series name
FRED_SERIES: Final = {
    "DGS3MO": "rate_3m",
    "DGS2": "rate_2y",
    "DGS10": "rate_10y",
    "CPIAUCSL": "inflation",
    "DTWEXBGS": "usd",
    "DCOILWTICO": "oil",
}
#: series published as an index level; we store the year-over-year change in percent
YOY_SERIES: Final = frozenset({"CPIAUCSL"})
MISSING: Final = "."


def to_macro(series_id: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """A FRED frame (date, value[, _file, _line]) as macro rows, and the '.' rows skipped.

    FRED's CSV has no vintages: ``release_date`` follows the documented per-series rule of
    :mod:`~quantdesk.ingestion.sources.publication`.
    """

    date_col, value_col = [c for c in frame.columns if not str(c).startswith("_")][:2]
    values = frame[value_col].astype(str).str.strip()
    skipped = int((values == MISSING).sum())
    kept = frame[values != MISSING]
    out = pd.DataFrame(
        {
            "date": kept[date_col].to_numpy(),
            "series": FRED_SERIES.get(series_id.upper(), series_id),
            "value": kept[value_col].to_numpy(),
        }
    )
    for column in frame.columns:
        if str(column).startswith("_"):  # provenance (file, line) rides along to quarantine
            out[column] = kept[column].to_numpy()
    if series_id.upper() in YOY_SERIES:
        level = pd.to_numeric(out["value"], errors="coerce")
        out["value"] = ((level / level.shift(12) - 1) * 100).round(3)
        out = out.iloc[12:]
    out["release_date"] = release_dates(out["series"], out["date"])
    return out.reset_index(drop=True), skipped


class FredSource:
    """FRED over HTTP. ``options``: ``series`` (FRED ids), ``start`` (ISO date)."""

    name = "fred"

    def __init__(self, http: VendorHttp | None = None, base_url: str = BASE_URL) -> None:
        self.http = http or VendorHttp("FRED")
        self.base_url = base_url

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # FRED revises and appends: always fetch

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        if request.datasets and "macro" not in request.datasets:
            raise SourceConfigError("fred only provides the macro dataset")
        series = [str(s).upper() for s in request.options.get("series", list(FRED_SERIES))]
        unknown = [s for s in series if s not in FRED_SERIES]
        if unknown:
            raise SourceConfigError(f"fred: no mapping for series {unknown}")
        frames = []
        notes = []
        for series_id in series:
            params = {"id": series_id}
            if "start" in request.options:
                params["cosd"] = str(request.options["start"])
            body = self.http.get(self.base_url, params).body
            raw = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
            if len(raw.columns) < 2:
                raise SourceUnavailableError(f"fred: unexpected answer for {series_id}")
            macro, skipped = to_macro(series_id, raw)
            if skipped:
                notes.append(f"{series_id}: {skipped} days without observation ('.') skipped")
            frames.append(macro)
        return Batch(
            source=self.name,
            frames={"macro": pd.concat(frames, ignore_index=True)},
            metadata={"vendor": "FRED, Federal Reserve Bank of St. Louis", "notes": notes},
        )
