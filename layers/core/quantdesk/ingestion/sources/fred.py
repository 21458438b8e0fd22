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
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.datalake.reader import Lake
from quantdesk.ingestion.errors import SourceConfigError
from quantdesk.ingestion.sources.base import Batch, FetchRequest, FileIssue
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.per_item import MalformedPayload, fetch_each
from quantdesk.ingestion.sources.publication import release_dates
from quantdesk.ingestion.sources.watermark import Watermark, last_dates

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
DATE_HEADERS: Final = ("observation_date", "date")


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


def parse_csv(body: bytes) -> pd.DataFrame:
    """FRED's CSV (``observation_date,<ID>``) as strings; :class:`MalformedPayload` otherwise."""
    try:
        raw = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"not a CSV: {exc}") from exc
    if len(raw.columns) != 2 or str(raw.columns[0]).lower() not in DATE_HEADERS:
        shown = ",".join(map(str, raw.columns))[:120]
        raise MalformedPayload(f"expected observation_date,<SERIES>; got columns {shown!r}")
    return raw


def requested_series(source: str, request: FetchRequest) -> list[str]:
    """The FRED series ids a ``fred`` or ``alfred`` request names (``options.series``, default
    every mapped one), once it is known to ask for macro data and every id to be mapped."""
    if request.datasets and "macro" not in request.datasets:
        raise SourceConfigError(f"{source} only provides the macro dataset")
    series = [str(s).upper() for s in request.options.get("series", list(FRED_SERIES))]
    unknown = [s for s in series if s not in FRED_SERIES]
    if unknown:
        raise SourceConfigError(f"{source}: no mapping for series {unknown}")
    return series


def macro_batch(
    source: str, frames: list[pd.DataFrame], metadata: dict[str, Any], issues: list[FileIssue]
) -> Batch:
    """The series fetched as one ``macro`` frame (empty, with its columns, when none was new)."""
    empty = pd.DataFrame(columns=["date", "series", "value", "release_date"])
    return Batch(
        source=source,
        frames={"macro": pd.concat(frames, ignore_index=True) if frames else empty},
        metadata=metadata,
        issues=issues,
    )


class FredSource:
    """FRED over HTTP. ``options``: ``series`` (FRED ids), ``start`` (ISO date: backfill).

    Incremental: a series is asked from its last stored reference date on (a year earlier for
    CPI's year-over-year base) and only newer dates are kept. A series FRED keeps refusing or
    answers with something else than its CSV is reported as an issue; the others load.
    """

    name = "fred"

    def __init__(
        self, http: VendorHttp | None = None, lake: Lake | None = None, base_url: str = BASE_URL
    ) -> None:
        self.http = http or VendorHttp("FRED")
        self._lake = lake
        self.base_url = base_url

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # FRED revises and appends: always fetch

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        series = requested_series(self.name, request)
        start = request.options.get("start")
        watermark = Watermark({}) if start else self.watermark()
        notes: list[str] = []

        def one(series_id: str) -> pd.DataFrame:
            since = watermark.since(FRED_SERIES[series_id])
            begin = since if since is not None else (pd.Timestamp(start) if start else None)
            params = {"id": series_id}
            if begin is not None:
                year = pd.DateOffset(years=1) if series_id in YOY_SERIES else pd.DateOffset(days=0)
                params["cosd"] = (begin - year).date().isoformat()
            raw = parse_csv(self.http.get(self.base_url, params).body)
            macro, skipped = to_macro(series_id, raw)
            if skipped:
                notes.append(f"{series_id}: {skipped} days without observation ('.') skipped")
            if begin is not None:
                dates = pd.to_datetime(macro["date"], errors="coerce")
                macro = macro[(dates > begin if since is not None else dates >= begin).to_numpy()]
            return macro

        frames, issues = fetch_each(series, one, lambda series_id: f"FRED id={series_id}")
        metadata = {"vendor": "FRED, Federal Reserve Bank of St. Louis", "notes": notes}
        return macro_batch(self.name, frames, metadata, issues)

    def watermark(self) -> Watermark:
        if self._lake is None:
            self._lake = Lake.from_settings()
        return last_dates(self._lake, "macro", by="series")
