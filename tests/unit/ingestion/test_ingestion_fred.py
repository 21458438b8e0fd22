"""The FRED adapter on recorded answers (no network)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from quantdesk.datalake.reader import Lake
from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import fred
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.http import HttpResponse
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.replay import ReplayTransport, replay_http

RECORDINGS = Path(__file__).parent / "recordings"


def recorded(url: str) -> bytes:
    series = parse_qs(urlparse(url).query)["id"][0]
    return (RECORDINGS / f"fred_{series}.csv").read_bytes()


def replay(ctx: IngestionContext) -> fred.FredSource:
    lake = Lake(ctx.store, ctx.snapshots)
    return fred.FredSource(http=replay_http("FRED", ReplayTransport(recorded)), lake=lake)


def test_fred_series_become_macro_rows(ctx: IngestionContext, monkeypatch) -> None:
    monkeypatch.setattr(
        fred, "VendorHttp", lambda vendor: replay_http(vendor, ReplayTransport(recorded))
    )
    request = FetchRequest(source="fred", options={"series": ["DGS10", "CPIAUCSL"]})
    outcome = run_source(request, "ing-fred", ctx)
    assert outcome.status == "succeeded", outcome.message
    macro = outcome.datasets[0]
    assert macro.dataset == "macro" and macro.rows_loaded == 4 + 2
    record = ctx.snapshots.latest("macro")
    assert record is not None and not record.synthetic


def test_cpi_level_becomes_year_over_year_percent(ctx: IngestionContext) -> None:
    batch = replay(ctx).fetch(
        FetchRequest(source="fred", options={"series": ["CPIAUCSL"]}),
        landing=None,  # type: ignore[arg-type]
    )
    values = batch.frames["macro"]["value"].tolist()
    assert values == pytest.approx([3.04, 3.04], abs=0.01)
    assert set(batch.frames["macro"]["series"]) == {"inflation"}
    # dated by release, not reference month: CPI for January is public mid-February
    assert batch.frames["macro"]["release_date"].tolist() == [
        pd.Timestamp("2024-02-15"),
        pd.Timestamp("2024-03-15"),
    ]


def test_missing_observations_are_skipped_with_a_note(ctx: IngestionContext) -> None:
    batch = replay(ctx).fetch(
        FetchRequest(source="fred", options={"series": ["DGS10"]}),
        landing=None,  # type: ignore[arg-type]
    )
    assert len(batch.frames["macro"]) == 4
    assert "1 days without observation" in batch.metadata["notes"][0]


def test_unknown_series_is_a_config_error(ctx: IngestionContext) -> None:
    with pytest.raises(SourceConfigError):
        replay(ctx).fetch(
            FetchRequest(source="fred", options={"series": ["NOPE"]}),
            landing=None,  # type: ignore[arg-type]
        )


def test_server_errors_are_retried_then_retryable(ctx: IngestionContext) -> None:
    transport = ReplayTransport(recorded, script=[HttpResponse(503, b"")] * 4)
    source = fred.FredSource(
        http=replay_http("FRED", transport), lake=Lake(ctx.store, ctx.snapshots)
    )
    with pytest.raises(SourceUnavailableError, match="FRED answered 503"):
        source.fetch(FetchRequest(source="fred", options={"series": ["DGS10"]}), landing=None)  # type: ignore[arg-type]
    assert len(transport.requests) == 4


def test_a_malformed_series_is_reported_the_others_load(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_cpi(url: str) -> bytes:
        if "CPIAUCSL" in url:
            return b"<html><body>Series not available</body></html>"
        return recorded(url)

    configured = fred.FredSource(
        http=replay_http("FRED", ReplayTransport(broken_cpi)), lake=Lake(ctx.store, ctx.snapshots)
    )
    monkeypatch.setattr(fred, "FredSource", lambda: configured)
    request = FetchRequest(source="fred", options={"series": ["DGS10", "CPIAUCSL"]})
    outcome = run_source(request, "ing-fred-bad", ctx)
    assert outcome.status == "succeeded_with_warnings" and outcome.datasets[0].rows_loaded == 4
    (issue,) = outcome.issues
    assert (issue.file, issue.reason) == ("FRED id=CPIAUCSL", "malformed_payload")


def test_fred_fetches_only_what_is_new(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        fred, "VendorHttp", lambda vendor: replay_http(vendor, ReplayTransport(recorded))
    )
    request = FetchRequest(source="fred", options={"series": ["DGS10", "CPIAUCSL"]})
    assert run_source(request, "ing-fred-1", ctx).datasets[0].rows_loaded == 6
    transport = ReplayTransport(recorded)
    source = fred.FredSource(
        http=replay_http("FRED", transport), lake=Lake(ctx.store, ctx.snapshots)
    )
    batch = source.fetch(request, ctx.store)
    asked = {
        parse_qs(urlparse(r.url).query)["id"][0]: parse_qs(urlparse(r.url).query)["cosd"][0]
        for r in transport.requests
    }
    assert asked == {"DGS10": "2025-01-03", "CPIAUCSL": "2023-02-01"}
    assert batch.frames["macro"].empty
