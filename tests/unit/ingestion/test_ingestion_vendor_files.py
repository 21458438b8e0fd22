"""Vendor payloads saved to disk ingest through ``--source files`` exactly as the online sources
read them (offline users): Stooq, Tiingo, EDGAR companyfacts/submissions, membership changes."""

from __future__ import annotations

import pandas as pd

from quantdesk.datalake.reader import Lake, read_partitions
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import edgar_facts, stooq, tiingo
from quantdesk.ingestion.sources.base import FetchRequest
from tests.unit.in_process_ingestion import run_ingestion
from tests.unit.ingestion.vendor_replay import recording

PREFIX = "landing/vendor-drop/"


def _drop(ctx: IngestionContext, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        ctx.store.put_bytes(PREFIX + name, body)


def _lake(ctx: IngestionContext, dataset: str) -> pd.DataFrame:
    record = ctx.snapshots.latest(dataset)
    assert record is not None
    frame, _ = read_partitions(
        Lake(ctx.store, ctx.snapshots), dataset, load_manifest(ctx.store, record)
    )
    return frame


def _columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].sort_values(columns[:2]).reset_index(drop=True)


def test_a_folder_of_vendor_downloads_loads_like_the_online_sources(ctx: IngestionContext):
    _drop(
        ctx,
        {
            "stooq/aapl.us.txt": recording("stooq_aapl.us.csv"),
            "tiingo/MSFT.json": recording("tiingo_aapl.json"),
            "edgar/companyfacts/CIK0000320193.json": recording(
                "edgar_companyfacts_CIK0000320193.json"
            ),
            "edgar/submissions/CIK0000320193.json": recording(
                "edgar_submissions_CIK0000320193.json"
            ),
            "edgar/submissions/CIK0000789019.json": recording(
                "edgar_submissions_CIK0000789019.json"
            ),
            "universe_changes.csv": recording("membership_changes.csv"),
            # names without a submissions file here: a generic sectors file next to them
            "sectors.csv": b"symbol,sector,industry\nSIVB,Financials,Banks\nUBER,Industrials,X\n",
        },
    )
    summary = run_ingestion([FetchRequest(source="files", prefix=PREFIX)], ctx)
    assert summary.status == "succeeded", summary.message
    assert set(summary.snapshots) == {"prices", "fundamentals", "sectors", "universe"}
    # the same parsers as online: identical rows
    prices = _lake(ctx, "prices")
    online = pd.concat(
        [
            stooq.parse_prices("AAPL", recording("stooq_aapl.us.csv")),
            tiingo.parse_prices("MSFT", recording("tiingo_aapl.json"))[0],
        ]
    )
    cols = ["date", "symbol", "close", "volume"]
    pd.testing.assert_frame_equal(_columns(prices, cols), _columns(online, cols), check_dtype=False)
    # companyfacts named by CIK got its ticker from the submissions file dropped alongside
    fundamentals = _lake(ctx, "fundamentals")
    expected = edgar_facts.parse_companyfacts(
        "AAPL", recording("edgar_companyfacts_CIK0000320193.json")
    )
    assert fundamentals["report_date"].tolist() == expected["report_date"].tolist()
    assert set(fundamentals["symbol"]) == {"AAPL"}
    sectors = _lake(ctx, "sectors").set_index("symbol")
    assert sectors.loc["MSFT", "sector"] == "Information Technology"
    assert sectors.loc["AAPL", "industry"] == "Electronic Computers"
    universe = _lake(ctx, "universe")
    assert universe.query("symbol == 'SIVB'")["end_date"].notna().all()


def test_a_tiingo_csv_download_uses_the_adjusted_columns(ctx: IngestionContext) -> None:
    csv = (
        "date,close,high,low,open,volume,adjClose,adjHigh,adjLow,adjOpen,adjVolume,divCash,"
        "splitFactor\n"
        "2024-01-02,185.64,188.44,183.885,187.15,82488674,184.53,187.32,182.81,186.03,"
        "82488674,0.0,1.0\n"
    )
    _drop(ctx, {"AAPL.csv": csv.encode()})
    summary = run_ingestion([FetchRequest(source="files", prefix=PREFIX)], ctx)
    assert summary.status == "succeeded", summary.message
    row = _lake(ctx, "prices").iloc[0]
    assert (row["symbol"], row["close"], row["open"]) == ("AAPL", 184.53, 186.03)


def test_malformed_vendor_files_are_quarantined_whole_and_the_rest_loads(ctx: IngestionContext):
    broken = b'{"cik": 320193, "facts": {"us-gaap": {"Assets": {"units": 5}}}}'
    _drop(
        ctx,
        {
            "stooq/aapl.us.txt": recording("stooq_aapl.us.csv"),
            "edgar/CIK0000320193.json": broken,
            "edgar/unknown.json": b'{"hello": "world"}',
            "edgar/orphan/CIK0000000001.json": recording("edgar_companyfacts_CIK0000320193.json"),
            "changes.csv": recording("membership_changes.csv")
            + b"2024-01-02,us_large_cap,TSLA,removed\n",
        },
    )
    summary = run_ingestion([FetchRequest(source="files", prefix=PREFIX)], ctx)
    (outcome,) = summary.sources
    assert outcome.status == "succeeded_with_warnings"
    reasons = {i.file: i.reason for i in outcome.issues}
    assert reasons == {
        "edgar/CIK0000320193.json": "malformed_payload",
        "edgar/unknown.json": "unrecognised_json",
        "edgar/orphan/CIK0000000001.json": "malformed_payload",
        "changes.csv": "malformed_payload",
    }
    detail = next(i.detail for i in outcome.issues if i.file == "changes.csv")
    assert "line 7: TSLA removed while not a member" in detail
    # the lake knew no ticker: the valid prices register theirs in the batch's universe
    assert set(summary.snapshots) == {"prices", "universe"}
    kept = f"quarantine/{summary.run_id}/files/payloads/edgar/CIK0000320193.json"
    assert ctx.store.get_bytes(kept) == broken
