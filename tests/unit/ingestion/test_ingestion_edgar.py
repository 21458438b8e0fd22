"""SEC EDGAR on recorded answers: companyfacts -> point-in-time fundamentals, submissions ->
sectors, incremental fetches, and a failing endpoint that does not fail the other dataset."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from quantdesk import aws
from quantdesk.datalake.reader import Lake
from quantdesk.ingestion import pipeline
from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import edgar, vendor_settings
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.edgar_facts import parse_companyfacts
from quantdesk.ingestion.sources.sic_sectors import SIC_RANGES, sector_of
from scenarios.frames import FUNDAMENTALS, SECTOR_NAMES
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.vendor_replay import Replay, recording

FACTS = "edgar_companyfacts_CIK0000320193.json"
B = 1e9


def sec(url: str) -> tuple[int, bytes]:
    """SEC's answers by URL, from the recordings."""
    if url.endswith("company_tickers.json"):
        return 200, recording("edgar_company_tickers.json")
    name = url.rsplit("/", 1)[-1]
    kind = "submissions" if "/submissions/" in url else "companyfacts"
    try:
        return 200, recording(f"edgar_{kind}_{name}")
    except FileNotFoundError:
        return 404, b'{"message": "Not Found"}'


def ingest(ctx, replay: Replay, run_id: str, monkeypatch, **request):
    src = edgar.EdgarSource(http=replay.client("SEC EDGAR"), lake=Lake(ctx.store, ctx.snapshots))
    monkeypatch.setattr(pipeline, "get_source", lambda name: src)
    options = {"symbols": ["AAPL", "MSFT"]}
    return run_source(FetchRequest(source="edgar", options=options, **request), run_id, ctx)


def test_companyfacts_become_quarterly_rows_dated_by_filing() -> None:
    rows = parse_companyfacts("AAPL", recording(FACTS)).set_index("period_end")
    assert list(rows.columns[:8]) == [c for c in FUNDAMENTALS if c != "period_end"]
    assert [d.date().isoformat() for d in rows.index] == [
        "2022-12-31",
        "2023-04-01",
        "2023-07-01",
        "2023-09-30",
        "2023-12-30",
    ]
    # report date = the 10-Q/10-K's filing date, never the period end
    assert rows["report_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-02-03",
        "2023-05-05",
        "2023-08-04",
        "2023-11-03",
        "2024-02-02",
    ]
    # three-month values only: the six- and nine-month year-to-date facts are not quarters
    assert rows.loc["2023-04-01", "revenue"] == pytest.approx(94.836 * B)
    # the fourth quarter is the 10-K's year minus the three quarters (Apple's Q4 FY23 release:
    # revenue $89.498 B, net income $22.956 B)
    assert rows.loc["2023-09-30", "revenue"] == pytest.approx(89.498 * B)
    assert rows.loc["2023-09-30", "net_income"] == pytest.approx(22.956 * B)
    # shares: the balance-sheet tag where reported, else the same filing's cover page
    assert rows.loc["2023-09-30", "shares_outstanding"] == 15_550_061_000
    assert rows.loc["2022-12-31", "shares_outstanding"] == 15_821_946_000
    assert rows.loc["2022-12-31", "total_debt"] == pytest.approx(99.627 * B)
    assert rows.loc["2022-12-31", "_accn"] == "0000320193-23-000006"
    assert set(rows["_cik"]) == {"CIK0000320193"}


def test_a_later_restatement_never_rewrites_what_was_known_first() -> None:
    doc = json.loads(recording(FACTS))
    revenue = doc["facts"]["us-gaap"]["RevenueFromContractWithCustomerExcludingAssessedTax"]
    restated = dict(revenue["units"]["USD"][0], val=1.0, filed="2024-06-01", form="10-K/A")
    revenue["units"]["USD"].append(restated)
    rows = parse_companyfacts("AAPL", json.dumps(doc).encode()).set_index("period_end")
    assert rows.loc["2022-12-31", "revenue"] == pytest.approx(117.154 * B)
    assert rows.loc["2022-12-31", "report_date"] == pd.Timestamp("2023-02-03")


def test_a_missing_tag_leaves_the_column_empty_for_validation_to_quarantine() -> None:
    doc = json.loads(recording(FACTS))
    del doc["facts"]["us-gaap"]["LongTermDebtNoncurrent"]
    rows = parse_companyfacts("AAPL", json.dumps(doc).encode())
    assert rows["total_debt"].isna().all() and rows["revenue"].notna().all()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.pop("facts"),
        lambda d: d["facts"]["us-gaap"]["Assets"]["units"]["USD"][0].pop("filed"),
        lambda d: d["facts"]["us-gaap"]["Assets"]["units"]["USD"][0].update(val="n/a"),
        lambda d: d["facts"]["us-gaap"]["NetIncomeLoss"].update(units=[]),
    ],
)
def test_a_malformed_companyfacts_is_refused_whole(mangle) -> None:
    doc = json.loads(recording(FACTS))
    mangle(doc)
    body = json.dumps(doc).encode()
    with pytest.raises(MalformedPayloadError) as caught:
        parse_companyfacts("AAPL", body)
    assert caught.value.payload == body


def test_sic_codes_map_to_our_sectors() -> None:
    assert {s for _, _, s in SIC_RANGES} == set(SECTOR_NAMES)
    assert sector_of("3571") == "Information Technology"  # Apple: electronic computers
    assert sector_of(7372) == "Information Technology"  # Microsoft: prepackaged software
    assert sector_of("2834") == "Health Care"  # pharmaceutical preparations
    assert sector_of("2800") == "Materials"
    assert sector_of("6798") == "Real Estate"  # REITs, not Financials
    assert sector_of("6022") == "Financials"
    assert sector_of("4911") == "Utilities"
    assert sector_of("4922") == "Energy"
    assert sector_of("5331") == "Consumer Staples"  # variety stores, not retail at large
    assert sector_of("5651") == "Consumer Discretionary"
    assert sector_of("9995") is None and sector_of("") is None


def test_fundamentals_and_sectors_load_through_the_pipeline(ctx: IngestionContext, monkeypatch):
    replay = Replay(sec)
    outcome = ingest(ctx, replay, "ing-edgar-1", monkeypatch)
    loaded = {d.dataset: d.rows_loaded for d in outcome.datasets}
    assert loaded == {"sectors": 2, "fundamentals": 5}, outcome.message
    assert sum(d.rows_quarantined for d in outcome.datasets) == 0
    # SEC has no companyfacts for MSFT in the recordings (a 404): reported, the rest loads
    (issue,) = outcome.issues
    assert (issue.file, issue.reason, issue.dataset) == (
        "edgar companyfacts CIK0000789019 (MSFT)",
        "vendor_refused",
        "fundamentals",
    )
    assert outcome.status == "succeeded_with_warnings"
    assert ctx.snapshots.latest("sectors").symbols == 2
    assert ctx.snapshots.latest("fundamentals").symbols == 1
    assert replay.urls()[0] == edgar.TICKERS_URL


def test_a_company_without_a_new_filing_is_not_fetched_again(ctx: IngestionContext, monkeypatch):
    ingest(ctx, Replay(sec), "ing-edgar-1", monkeypatch)
    replay = Replay(sec)
    outcome = ingest(ctx, replay, "ing-edgar-2", monkeypatch, datasets=["fundamentals"])
    # Apple's latest 10-Q (2024-02-02) is already the lake's last report date: no companyfacts
    assert not any("companyfacts/CIK0000320193" in u for u in replay.urls())
    assert not any(d.dataset == "sectors" for d in outcome.datasets)


def test_a_failing_companyfacts_endpoint_still_loads_sectors(ctx: IngestionContext, monkeypatch):
    def answer(url: str) -> tuple[int, bytes]:
        return (503, b"") if "companyfacts" in url else sec(url)

    outcome = ingest(ctx, Replay(answer), "ing-edgar-503", monkeypatch)
    assert outcome.status == "succeeded_with_warnings"
    assert [d.dataset for d in outcome.datasets] == ["sectors"]
    reasons = {(i.dataset, i.reason) for i in outcome.issues}
    assert ("fundamentals", "vendor_unavailable") in reasons
    assert ctx.snapshots.latest("sectors").symbols == 2
    assert ctx.snapshots.latest("fundamentals") is None


def test_a_malformed_companyfacts_is_quarantined_with_its_cik(ctx: IngestionContext, monkeypatch):
    def answer(url: str) -> tuple[int, bytes]:
        broken = b'{"cik": 320193, "facts": ['
        return (200, broken) if "companyfacts" in url else sec(url)

    outcome = ingest(ctx, Replay(answer), "ing-edgar-bad", monkeypatch)
    issue = next(i for i in outcome.issues if i.reason == "malformed_payload")
    assert issue.file == "edgar companyfacts CIK0000320193 (AAPL)"
    name = "fundamentals-edgar_companyfacts_CIK0000320193__AAPL_"
    key = f"quarantine/ing-edgar-bad/edgar/payloads/{name}"
    assert ctx.store.get_bytes(key) == b'{"cik": 320193, "facts": ['
    assert ctx.snapshots.latest("fundamentals") is None


def test_an_unknown_ticker_is_reported_not_guessed(ctx: IngestionContext, monkeypatch) -> None:
    src = edgar.EdgarSource(http=Replay(sec).client(), lake=Lake(ctx.store, ctx.snapshots))
    batch = src.fetch(FetchRequest(source="edgar", options={"symbols": ["NOPE"]}), ctx.store)
    (issue,) = batch.issues
    assert (issue.file, issue.reason) == ("edgar NOPE", "unknown_at_vendor")


def test_without_a_contact_user_agent_edgar_refuses_to_run(monkeypatch) -> None:
    monkeypatch.delenv("QD_EDGAR_USER_AGENT", raising=False)
    vendor_settings.get_vendor_settings.cache_clear()
    with pytest.raises(SourceConfigError, match="QD_EDGAR_USER_AGENT"):
        edgar.EdgarSource().fetch(FetchRequest(source="edgar"), None)  # type: ignore[arg-type]
    monkeypatch.setenv("QD_EDGAR_USER_AGENT", "Example Research admin@example.org")
    vendor_settings.get_vendor_settings.cache_clear()
    assert edgar.EdgarSource()._client().user_agent == "Example Research admin@example.org"
    vendor_settings.get_vendor_settings.cache_clear()


def test_on_a_deployed_stage_the_contact_comes_from_the_stacks_ssm_path(
    moto_aws: None, monkeypatch
) -> None:
    monkeypatch.delenv("QD_EDGAR_USER_AGENT", raising=False)
    monkeypatch.setenv("QD_VENDOR_PARAMETERS_PATH", "/quantdesk-prod/vendor")
    vendor_settings.get_vendor_settings.cache_clear()
    vendor_settings._provider.cache_clear()
    aws.client("ssm").put_parameter(
        Name="/quantdesk-prod/vendor/edgar-user-agent", Value="Desk ops@desk.org", Type="String"
    )
    assert edgar.EdgarSource()._client().user_agent == "Desk ops@desk.org"
    settings = vendor_settings.get_vendor_settings()
    assert vendor_settings.tiingo_key_location(settings) == "ssm:/quantdesk-prod/vendor/tiingo-key"
    vendor_settings.get_vendor_settings.cache_clear()
    vendor_settings._provider.cache_clear()
