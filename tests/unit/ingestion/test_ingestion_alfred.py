"""The ALFRED adapter on recorded answers: vintages -> release dates, incremental, failures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from quantdesk import aws
from quantdesk.datalake.reader import Lake, read_partitions
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.ingestion.errors import SourceConfigError, SourceUnavailableError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import alfred
from quantdesk.ingestion.sources.api_keys import vendor_api_key
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.http import HttpResponse
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.replay import ReplayTransport, replay_http

RECORDINGS = Path(__file__).parent / "recordings"
KEY = "abcdefabcdefabcdefabcdefabcdef12"
AlfredSource = alfred.AlfredSource  # tests replace the module's factory with a configured one


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def recorded(url: str) -> bytes:
    return (RECORDINGS / f"alfred_{query(url)['series_id']}.json").read_bytes()


def source(ctx: IngestionContext, transport: ReplayTransport | None = None) -> AlfredSource:
    return AlfredSource(
        http=replay_http("ALFRED", transport or ReplayTransport(recorded)),
        lake=Lake(ctx.store, ctx.snapshots),
        api_key=lambda: KEY,
    )


def use(monkeypatch: pytest.MonkeyPatch, configured: AlfredSource) -> None:
    monkeypatch.setattr(alfred, "AlfredSource", lambda: configured)


REQUEST = FetchRequest(source="alfred", options={"series": ["CPIAUCSL", "DGS10"]})


def test_first_releases_carry_their_real_release_dates(ctx: IngestionContext) -> None:
    # When
    batch = source(ctx).fetch(REQUEST, ctx.store)
    macro = batch.frames["macro"].set_index(["series", "date"])
    # Then each reference period is dated by its first vintage, with the first-release value
    dgs10 = macro.loc["rate_10y"]
    assert dgs10["release_date"].tolist() == list(
        pd.to_datetime(["2024-12-31", "2025-01-02", "2025-01-03", "2025-01-06"])
    )
    assert dgs10["value"].tolist() == [4.55, 4.58, 4.57, 4.60]
    # CPI: January 2024 was first published on 2024-02-13 (not dated 2024-01-01); its
    # year-over-year base is January 2023 as published by then (the revised 300.586)
    cpi = macro.loc["inflation"]
    assert cpi.loc[pd.Timestamp("2024-01-01"), "release_date"] == pd.Timestamp("2024-02-13")
    assert cpi["value"].tolist() == pytest.approx(
        [
            (308.742 / 299.040 - 1) * 100,
            (309.685 / 300.586 - 1) * 100,
            (311.054 / 301.698 - 1) * 100,
        ],
        abs=1e-3,
    )
    assert set(batch.frames["macro"]["_series_id"]) == {"CPIAUCSL", "DGS10"}


def test_requests_ask_for_every_vintage_with_the_key_and_json(ctx: IngestionContext) -> None:
    transport = ReplayTransport(recorded)
    source(ctx, transport).fetch(REQUEST, ctx.store)
    sent = query(transport.requests[0].url)
    assert sent["realtime_start"] == "1776-07-04" and sent["realtime_end"] == "9999-12-31"
    assert sent["api_key"] == KEY and sent["file_type"] == "json"
    # CPI's first emitted month needs the level of a year before
    assert sent["observation_start"] == "1999-01-01"


def test_alfred_through_the_pipeline_then_incrementally(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a first ingestion
    use(monkeypatch, source(ctx))
    outcome = run_source(REQUEST, "ing-alfred-1", ctx)
    assert outcome.status == "succeeded", outcome.message
    assert outcome.datasets[0].rows_loaded == 4 + 3
    record = ctx.snapshots.latest("macro")
    assert record is not None and not record.synthetic
    # When it runs again
    transport = ReplayTransport(recorded)
    use(monkeypatch, source(ctx, transport))
    again = run_source(REQUEST, "ing-alfred-2", ctx)
    # Then it asks only from the last stored period on and writes nothing already stored
    starts = {
        query(r.url)["series_id"]: query(r.url)["observation_start"] for r in transport.requests
    }
    assert starts == {"CPIAUCSL": "2023-02-01", "DGS10": "2025-01-03"}
    assert again.datasets[0].rows_loaded == 0 and again.status == "succeeded", again.message


def test_a_series_the_vendor_keeps_refusing_is_reported_the_others_load(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cpi_unavailable(url: str) -> bytes | HttpResponse:
        if query(url)["series_id"] == "CPIAUCSL":
            return HttpResponse(503, b"busy")
        return recorded(url)

    transport = ReplayTransport(cpi_unavailable)
    use(monkeypatch, source(ctx, transport))
    outcome = run_source(REQUEST, "ing-alfred-503", ctx)
    # retried (4 attempts) then reported by series; DGS10 loaded
    assert sum(query(r.url)["series_id"] == "CPIAUCSL" for r in transport.requests) == 4
    assert outcome.status == "succeeded_with_warnings"
    assert outcome.datasets[0].rows_loaded == 4
    (issue,) = outcome.issues
    assert (issue.file, issue.reason) == ("ALFRED series_id=CPIAUCSL", "vendor_unavailable")
    assert KEY not in issue.detail


def test_when_no_series_answers_the_source_fails_retryably(ctx: IngestionContext) -> None:
    transport = ReplayTransport(lambda url: HttpResponse(429, b"", {"retry-after": "1"}))
    with pytest.raises(SourceUnavailableError):
        source(ctx, transport).fetch(REQUEST, ctx.store)


@pytest.mark.parametrize(
    "payload",
    [
        b"<html>maintenance</html>",
        b'{"count": 1}',
        b'{"observations": [{"date": "2024-01-01", "value": "1.0"}]}',
        b'{"observations": [{"realtime_start": "2024-01-02", "realtime_end": "9999-12-31",'
        b' "date": "2024-01-01", "value": "4.5"}, {"realtime_start": "soon",'
        b' "realtime_end": "9999-12-31", "date": "2024-01-02", "value": "4.6"}]}',
    ],
    ids=["not-json", "no-observations", "missing-keys", "bad-date"],
)
def test_a_malformed_payload_is_quarantined_by_series_and_never_partly_written(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch, payload: bytes
) -> None:
    def dgs10_broken(url: str) -> bytes:
        return payload if query(url)["series_id"] == "DGS10" else recorded(url)

    use(monkeypatch, source(ctx, ReplayTransport(dgs10_broken)))
    outcome = run_source(REQUEST, "ing-alfred-bad", ctx)
    assert outcome.status == "succeeded_with_warnings"
    (issue,) = outcome.issues
    assert (issue.file, issue.reason) == ("ALFRED series_id=DGS10", "malformed_payload")
    report = ctx.store.get_json(outcome.report_key or "")
    assert report["issues"][0]["file"] == "ALFRED series_id=DGS10"  # kept in the quarantine zone
    record = ctx.snapshots.latest("macro")
    assert record is not None
    stored, _ = read_partitions(
        Lake(ctx.store, ctx.snapshots), "macro", load_manifest(ctx.store, record)
    )
    assert set(stored["series"]) == {"inflation"}  # not one DGS10 row


def test_the_key_comes_from_ssm_or_secrets_manager(ctx: IngestionContext) -> None:
    aws.client("ssm").put_parameter(Name="/qd/fred", Value=KEY, Type="SecureString")
    aws.client("secretsmanager").create_secret(Name="qd/fred", SecretString=KEY)
    assert vendor_api_key("/qd/fred", vendor="ALFRED", setting="S") == KEY
    assert vendor_api_key("qd/fred", vendor="ALFRED", setting="S") == KEY
    with pytest.raises(SourceConfigError, match="could not be read"):
        vendor_api_key("/qd/missing", vendor="ALFRED", setting="S")


def test_without_a_configured_key_the_error_names_the_setting(ctx: IngestionContext) -> None:
    unkeyed = AlfredSource(http=replay_http("ALFRED", ReplayTransport(recorded)))
    with pytest.raises(SourceConfigError, match=r"QD_FRED_API_KEY_NAME.*--source files"):
        unkeyed.fetch(REQUEST, ctx.store)


def test_backfill_from_an_explicit_start_ignores_the_watermark(ctx: IngestionContext) -> None:
    transport = ReplayTransport(recorded)
    request = FetchRequest(source="alfred", options={"series": ["DGS10"], "start": "2024-12-31"})
    batch = source(ctx, transport).fetch(request, ctx.store)
    assert query(transport.requests[0].url)["observation_start"] == "2024-12-31"
    assert batch.frames["macro"]["date"].min() == pd.Timestamp(dt.date(2024, 12, 31))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (FetchRequest(source="alfred", options={"series": ["NOPE"]}), r"alfred: no mapping.*NOPE"),
        (
            FetchRequest(source="alfred", datasets=["prices"], options={"series": ["DGS10"]}),
            "alfred only provides the macro dataset",
        ),
    ],
    ids=["unknown-series", "not-macro"],
)
def test_a_request_it_cannot_serve_is_refused_before_any_vendor_request(
    ctx: IngestionContext, request_: FetchRequest, message: str
) -> None:
    transport = ReplayTransport(recorded)
    with pytest.raises(SourceConfigError, match=message):
        source(ctx, transport).fetch(request_, ctx.store)
    assert transport.requests == []
