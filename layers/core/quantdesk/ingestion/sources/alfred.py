"""``alfred``: macro series with their real release dates, from ALFRED (FRED's vintages).

One request per series to the FRED API's ``series/observations`` with the whole real-time
range (``realtime_start=1776-07-04``, ``realtime_end=9999-12-31``): every vintage of every
observation, as rows ``realtime_start, realtime_end, date, value``. For each reference ``date``
we keep its **first release**: ``release_date`` = the earliest ``realtime_start``, ``value`` =
the value published then (later revisions are not stored: what was known first is what a
backtest could have traded on). CPI's year-over-year change divides the first release by the
level of twelve months earlier *as published on that release date* (the vintage whose real-time
period contains it). Observations older than ALFRED's first vintage of a series carry that
vintage's date (later than the truth, never earlier).

The API needs a free FRED key, read from SSM/Secrets Manager (setting ``fred_api_key_name``,
:mod:`~quantdesk.ingestion.sources.api_keys`). Incremental: a series is fetched from its last
stored reference date on (a year earlier for CPI's year-over-year base) and only newer dates are
emitted; ``options.start`` forces a backfill from that date. A series the API keeps refusing
(429/5xx after the client's retries) or answers with a malformed payload is reported as an
issue naming the series, and none of its rows are written; the other series load.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from quantdesk.datalake.reader import Lake
from quantdesk.ingestion.sources.api_keys import vendor_api_key
from quantdesk.ingestion.sources.base import Batch, FetchRequest
from quantdesk.ingestion.sources.fred import (
    FRED_SERIES,
    YOY_SERIES,
    macro_batch,
    requested_series,
)
from quantdesk.ingestion.sources.http import VendorHttp
from quantdesk.ingestion.sources.per_item import MalformedPayload, fetch_each
from quantdesk.ingestion.sources.watermark import Watermark, last_dates
from quantdesk.settings import get_settings

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore

BASE_URL: Final = "https://api.stlouisfed.org/fred/series/observations"
ALL_REALTIME: Final = {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31"}
DEFAULT_START: Final = "2000-01-01"
PAGE: Final = 100_000
MISSING: Final = "."
OBSERVATION_KEYS: Final = ("realtime_start", "realtime_end", "date", "value")


def parse_vintages(body: bytes) -> tuple[pd.DataFrame, int]:
    """ALFRED's JSON as typed vintage rows (date, realtime_start, realtime_end, value) and the
    total count the API reports; raises :class:`MalformedPayload` on any structural fault."""
    try:
        payload = json.loads(body)
        observations = payload["observations"]
        count = int(payload.get("count", len(observations)))
        if not isinstance(observations, list):
            raise TypeError("observations is not a list")
        raw = pd.DataFrame.from_records(observations, columns=list(OBSERVATION_KEYS))
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedPayload(f"{type(exc).__name__}: {exc}") from exc
    if raw.isna().any().any():
        raise MalformedPayload("observations without realtime_start, realtime_end, date or value")
    raw = raw[raw["value"].astype(str).str.strip() != MISSING]
    frame = pd.DataFrame({"value": pd.to_numeric(raw["value"], errors="coerce")})
    for column in ("date", "realtime_start", "realtime_end"):
        frame[column] = pd.to_datetime(raw[column], format="%Y-%m-%d", errors="coerce")
    bad = frame[["date", "realtime_start", "realtime_end", "value"]].isna().any(axis=1)
    if bad.any():
        first = raw[bad.to_numpy()].iloc[0].to_dict()
        raise MalformedPayload(f"{int(bad.sum())} observation(s) not dates/numbers, e.g. {first}")
    return frame.reset_index(drop=True), count


def first_releases(vintages: pd.DataFrame, *, yoy: bool) -> pd.DataFrame:
    """One row per reference date: (date, value, release_date) of its first release."""
    ordered = vintages.sort_values(["date", "realtime_start"], kind="stable")
    first = ordered.drop_duplicates("date", keep="first")
    out = pd.DataFrame(
        {
            "date": first["date"].to_numpy(),
            "value": first["value"].to_numpy(),
            "release_date": first["realtime_start"].to_numpy(),
        }
    )
    if not yoy:
        return out
    base = out.assign(base_date=out["date"] - pd.DateOffset(years=1)).merge(
        vintages.rename(columns={"date": "base_date", "value": "base"}), on="base_date"
    )
    known = (base["realtime_start"] <= base["release_date"]) & (
        base["release_date"] <= base["realtime_end"]
    )
    base = base[known.to_numpy()].drop_duplicates("date", keep="last")
    out = out.merge(base[["date", "base"]], on="date", how="inner")
    out["value"] = ((out["value"] / out["base"] - 1) * 100).round(3)
    return out.drop(columns="base")


class AlfredSource:
    """ALFRED over HTTP. ``options``: ``series`` (FRED ids), ``start`` (ISO date: backfill)."""

    name = "alfred"

    def __init__(
        self,
        http: VendorHttp | None = None,
        lake: Lake | None = None,
        api_key: Callable[[], str] | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        self.http = http or VendorHttp("ALFRED", min_interval_s=0.6)  # FRED: 120 requests/min
        self._lake = lake
        self._api_key = api_key
        self.base_url = base_url

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        return None  # new releases appear without notice: always ask

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        series = requested_series(self.name, request)
        key = self.api_key()
        watermark = Watermark({}) if "start" in request.options else self.watermark()
        frames, issues = fetch_each(
            series,
            lambda series_id: self._series(
                series_id,
                key,
                watermark.since(FRED_SERIES[series_id]),
                request.options.get("start"),
            ),
            lambda series_id: f"ALFRED series_id={series_id}",
        )
        notes = [
            f"{f['_series_id'].iloc[0]}: {len(f)} new first releases" for f in frames if len(f)
        ]
        metadata = {"vendor": "ALFRED, Federal Reserve Bank of St. Louis", "notes": notes}
        return macro_batch(self.name, frames, metadata, issues)

    def _series(
        self, series_id: str, key: str, since: pd.Timestamp | None, start: Any
    ) -> pd.DataFrame:
        yoy = series_id in YOY_SERIES
        begin = pd.Timestamp(start or DEFAULT_START) if since is None else since
        fetch_from = begin - pd.DateOffset(years=1) if yoy else begin
        params: dict[str, object] = {
            "series_id": series_id,
            "api_key": key,
            "file_type": "json",
            "observation_start": fetch_from.date().isoformat(),
            "limit": PAGE,
            **ALL_REALTIME,
        }
        pages = []
        offset = 0
        while True:
            body = self.http.get(self.base_url, {**params, "offset": offset}).body
            page, count = parse_vintages(body)
            pages.append(page)
            offset += PAGE
            if offset >= count:
                break
        releases = first_releases(pd.concat(pages, ignore_index=True), yoy=yoy)
        newer = releases["date"] > since if since is not None else releases["date"] >= begin
        out = releases[newer.to_numpy()].assign(series=FRED_SERIES[series_id])
        out["_series_id"] = series_id  # the vendor's identifier rides along to quarantine
        return out.reset_index(drop=True)

    def api_key(self) -> str:
        if self._api_key is not None:
            return self._api_key()
        return vendor_api_key(
            get_settings().fred_api_key_name, vendor="ALFRED", setting="QD_FRED_API_KEY_NAME"
        )

    def watermark(self) -> Watermark:
        if self._lake is None:
            self._lake = Lake.from_settings()
        return last_dates(self._lake, "macro", by="series")
