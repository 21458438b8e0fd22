"""The GDELT news-tone adapter on recorded answers: tone -> daily sentiment per symbol."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from quantdesk.datalake.reader import Lake, read_partitions
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import gdelt
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.http import HttpResponse
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.replay import FakeClock, ReplayTransport, replay_http

RECORDINGS = Path(__file__).parent / "recordings"
SYMBOL_OF = {'"Apple"': "AAPL", '"Microsoft"': "MSFT"}
GdeltSource = gdelt.GdeltSource  # tests replace the module's factory with a configured one
REQUEST = FetchRequest(
    source="gdelt",
    options={"companies": {"AAPL": "Apple Inc.", "msft": "Microsoft Corporation"}, "days": 5},
)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def recorded(url: str) -> bytes:
    sent = query(url)
    return (RECORDINGS / f"gdelt_{SYMBOL_OF[sent['query']]}_{sent['mode']}.json").read_bytes()


def source(
    ctx: IngestionContext,
    transport: ReplayTransport | None = None,
    today: dt.date = dt.date(2026, 11, 2),
    clock: FakeClock | None = None,
) -> GdeltSource:
    return GdeltSource(
        http=replay_http(
            "GDELT", transport or ReplayTransport(recorded), clock, min_interval_s=5.0
        ),
        lake=Lake(ctx.store, ctx.snapshots),
        now=lambda: dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC),
    )


def use(monkeypatch: pytest.MonkeyPatch, configured: GdeltSource) -> None:
    monkeypatch.setattr(gdelt, "GdeltSource", lambda: configured)


@pytest.mark.parametrize(
    ("name", "query_text"),
    [
        ("Apple Inc.", '"Apple"'),
        ("Microsoft Corporation", '"Microsoft"'),
        ("Berkshire Hathaway Inc. Class B", '"Berkshire Hathaway"'),
        ("Johnson & Johnson", '"Johnson & Johnson"'),
    ],
)
def test_queries_are_built_from_company_names(name: str, query_text: str) -> None:
    assert gdelt.company_query(name) == query_text


def test_daily_tone_is_article_weighted_scaled_and_dated_the_next_day(
    ctx: IngestionContext,
) -> None:
    batch = source(ctx).fetch(REQUEST, ctx.store)
    frame = batch.frames["sentiment"].set_index(["symbol", "date"])
    apple = frame.loc["AAPL"]
    # 2026-10-28's articles (tone 1.8, 412 articles) are complete on 2026-10-29
    assert apple.loc[pd.Timestamp("2026-10-29"), "score"] == pytest.approx(0.18)
    assert apple.loc[pd.Timestamp("2026-10-29"), "mentions"] == 412
    # a day without articles has no row; a tone beyond +-10 is clipped to the scale
    assert pd.Timestamp("2026-11-01") not in apple.index
    assert frame.loc[("MSFT", pd.Timestamp("2026-11-02")), "score"] == -1.0
    assert len(frame) == 4 + 4
    assert set(batch.frames["sentiment"]["_query"]) == {'"Apple"', '"Microsoft"'}


def test_requests_are_spaced_five_seconds_apart_and_cover_the_window(
    ctx: IngestionContext,
) -> None:
    transport = ReplayTransport(recorded)
    clock = FakeClock()
    source(ctx, transport, clock=clock).fetch(REQUEST, ctx.store)
    assert len(transport.requests) == 4 and clock.waits == [5.0, 5.0, 5.0]
    sent = query(transport.requests[0].url)
    assert (sent["startdatetime"], sent["enddatetime"]) == ("20261028000000", "20261102000000")
    assert sent["format"] == "json" and sent["mode"] == "timelinetone"


def test_gdelt_through_the_pipeline_then_incrementally(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, source(ctx))
    outcome = run_source(REQUEST, "ing-gdelt-1", ctx)
    assert outcome.status == "succeeded", outcome.message
    assert outcome.datasets[0].dataset == "sentiment" and outcome.datasets[0].rows_loaded == 8
    # two days later only the days after the last stored row are asked for
    transport = ReplayTransport(recorded)
    use(monkeypatch, source(ctx, transport, today=dt.date(2026, 11, 4)))
    again = run_source(REQUEST, "ing-gdelt-2", ctx)
    starts = {query(r.url)["startdatetime"] for r in transport.requests}
    assert starts == {"20261102000000"}
    assert again.datasets[0].rows_loaded == 0


def test_a_symbol_the_vendor_refuses_is_reported_the_others_load(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def microsoft_busy(url: str) -> bytes | HttpResponse:
        return HttpResponse(503, b"") if "Microsoft" in url else recorded(url)

    use(monkeypatch, source(ctx, ReplayTransport(microsoft_busy)))
    outcome = run_source(REQUEST, "ing-gdelt-503", ctx)
    assert outcome.status == "succeeded_with_warnings"
    assert outcome.datasets[0].rows_loaded == 4
    (issue,) = outcome.issues
    assert issue.file == 'GDELT symbol=MSFT query="Microsoft"'
    assert issue.reason == "vendor_unavailable"


def test_an_error_text_instead_of_json_is_quarantined_never_partly_written(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def microsoft_refused(url: str) -> bytes:
        if "Microsoft" in url and "timelinevolraw" in url:
            return b"Your search contained a keyword that was too short."
        return recorded(url)

    use(monkeypatch, source(ctx, ReplayTransport(microsoft_refused)))
    outcome = run_source(REQUEST, "ing-gdelt-bad", ctx)
    (issue,) = outcome.issues
    assert (issue.reason, issue.file) == (
        "malformed_payload",
        'GDELT symbol=MSFT query="Microsoft"',
    )
    assert "too short" in issue.detail
    record = ctx.snapshots.latest("sentiment")
    assert record is not None
    stored, _ = read_partitions(
        Lake(ctx.store, ctx.snapshots), "sentiment", load_manifest(ctx.store, record)
    )
    assert set(stored["symbol"]) == {"AAPL"}  # MSFT's tone answered, but nothing of it is kept


def test_when_no_symbol_answers_the_source_fails_retryably(ctx: IngestionContext) -> None:
    transport = ReplayTransport(lambda url: HttpResponse(429, b""))
    with pytest.raises(SourceUnavailableError):
        source(ctx, transport).fetch(REQUEST, ctx.store)


def test_symbols_must_be_named_and_bounded(ctx: IngestionContext) -> None:
    with pytest.raises(SourceConfigError, match=r"options\.companies"):
        source(ctx).fetch(FetchRequest(source="gdelt"), ctx.store)
    many = {f"S{i}": f"Company {i}" for i in range(gdelt.MAX_SYMBOLS + 1)}
    with pytest.raises(SourceConfigError, match="split them"):
        source(ctx).fetch(FetchRequest(source="gdelt", options={"companies": many}), ctx.store)
