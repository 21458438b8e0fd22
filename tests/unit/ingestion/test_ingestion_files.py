"""The ``files`` source through the whole pipeline: formats, bad input, quarantine, idempotency."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from quantdesk.datalake import columnar
from quantdesk.datalake.reader import Lake, read_partitions
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.files import _symbol_from_name
from tests.unit.in_process_ingestion import run_ingestion

PREFIX = "landing/batch-1/"
SECTORS = "symbol,sector,industry\nAAA,Energy,Oil\nBBB,Utilities,Water\nCCC,Financials,Banks\n"
LONG = (
    "date,symbol,open,high,low,close,volume\n"
    "2024-01-02,AAA,10,11,9.5,10.5,1000\n"
    "2024-01-03,AAA,10.5,11.2,10.1,11,1200\n"
    "2024-01-02,BBB,20,21,19,20.5,500\n"
    "2024-01-03,BBB,20.5,21,20,20.8,700\n"
)


def _drop(ctx: IngestionContext, files: dict[str, str | bytes], prefix: str = PREFIX) -> None:
    for name, body in files.items():
        data = body.encode() if isinstance(body, str) else body
        ctx.store.put_bytes(prefix + name, data)


def _ingest(ctx: IngestionContext, prefix: str = PREFIX, **kwargs):
    return run_ingestion([FetchRequest(source="files", prefix=prefix, **kwargs)], ctx)


def _lake_frame(ctx: IngestionContext, dataset: str) -> pd.DataFrame:
    record = ctx.snapshots.latest(dataset)
    assert record is not None
    frame, _ = read_partitions(
        Lake(ctx.store, ctx.snapshots), dataset, load_manifest(ctx.store, record)
    )
    return frame


def _quarantine(ctx: IngestionContext, summary, dataset: str) -> pd.DataFrame:
    key = f"quarantine/{summary.run_id}/files/{dataset}.parquet"
    return columnar.decode(ctx.store.get_bytes(key))


def test_long_format_csv_and_sectors_load_cleanly(ctx: IngestionContext) -> None:
    _drop(ctx, {"sectors.csv": SECTORS, "prices.csv": LONG})
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    assert set(summary.snapshots) == {"prices", "sectors"}
    prices = _lake_frame(ctx, "prices")
    assert len(prices) == 4 and list(prices.columns)[:2] == ["date", "symbol"]


def test_yahoo_per_symbol_csv_is_adjusted_and_named_by_file(ctx: IngestionContext) -> None:
    yahoo = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,100,110,95,105,52.5,1000\n"
        "2024-01-03,105,112,101,110,55,2000\n"
    )
    _drop(ctx, {"sectors.csv": SECTORS, "CCC.csv": yahoo})
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    prices = _lake_frame(ctx, "prices")
    assert prices["symbol"].unique().tolist() == ["CCC"]
    assert prices["close"].tolist() == [52.5, 55.0]
    assert prices["volume"].tolist() == [2000.0, 4000.0]


def test_stooq_bulk_txt_and_gzip_long_csv(ctx: IngestionContext) -> None:
    stooq = (
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
        "AAA.US,D,20240104,000000,11,11.5,10.8,11.2,900,0\n"
    )
    _drop(
        ctx,
        {
            "sectors.csv": SECTORS,
            "aaa.us.txt": stooq,
            "more/prices.csv.gz": gzip.compress(LONG.encode()),
        },
    )
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    prices = _lake_frame(ctx, "prices")
    assert len(prices) == 5
    assert pd.Timestamp("2024-01-04") in set(prices["date"])


def test_fred_csv_maps_series_and_skips_missing_marker_with_a_note(ctx: IngestionContext) -> None:
    fred = "DATE,VALUE\n2024-01-02,3.95\n2024-01-03,.\n2024-01-04,3.99\n"
    new_style = "observation_date,DCOILWTICO\n2024-01-02,70.4\n2024-01-03,72.7\n"
    _drop(ctx, {"DGS10.csv": fred, "oil/DCOILWTICO.csv": new_style})
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    macro = _lake_frame(ctx, "macro")
    assert sorted(macro["series"].unique()) == ["oil", "rate_10y"]
    assert len(macro) == 4
    # FRED files carry no vintages: release dates follow the documented publication lag
    oil = macro[macro["series"] == "oil"].sort_values("date")
    assert oil["release_date"].tolist() == [pd.Timestamp("2024-01-10")] * 2


def test_long_macro_without_release_dates_gets_the_documented_lag(ctx: IngestionContext) -> None:
    long = "date,series,value\n2024-01-01,inflation,3.1\n2024-01-05,rate_10y,4.0\n"
    _drop(ctx, {"macro.csv": long})
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    macro = _lake_frame(ctx, "macro").set_index("series")
    assert macro.loc["inflation", "release_date"] == pd.Timestamp("2024-02-15")
    assert macro.loc["rate_10y", "release_date"] == pd.Timestamp("2024-01-08")


def test_parquet_generic_schema(ctx: IngestionContext) -> None:
    earnings = pd.DataFrame(
        {
            "symbol": ["AAA"],
            "report_date": [pd.Timestamp("2024-02-01")],
            "fiscal_period": ["2023Q4"],
            "eps_actual": [1.2],
            "eps_estimate": [1.1],
        }
    )
    _drop(ctx, {"sectors.csv": SECTORS, "q4.parquet": columnar.encode(earnings)})
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    assert len(_lake_frame(ctx, "earnings")) == 1


def test_a_parquet_name_on_bytes_that_are_not_whole_parquet_is_unreadable_never_decoded(
    ctx: IngestionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fastparquet reads a footer without bounds checks: unframed bytes could crash the process
    whole = columnar.encode(pd.DataFrame({"symbol": ["AAA"], "sector": ["Energy"]}))
    files = {
        "other.parquet": b"PAR1 this is not parquet",
        "truncated.parquet": whole[: len(whole) // 2],
        "footer.parquet": whole[:-8] + (len(whole) * 2).to_bytes(4, "little") + b"PAR1",
    }
    _drop(ctx, {"sectors.csv": SECTORS, **files})
    decoded: list[bytes] = []
    decode = columnar.decode
    monkeypatch.setattr(
        columnar, "decode", lambda data, **kw: decoded.append(data) or decode(data, **kw)
    )
    summary = _ingest(ctx)
    (source,) = summary.sources
    unreadable = {i.file: i.detail for i in source.issues if i.reason == "unreadable"}
    assert set(unreadable) == set(files)
    assert all("not a Parquet file" in (detail or "") for detail in unreadable.values())
    assert not set(files.values()) & set(decoded)  # none of them reached the decoder
    assert "sectors" in summary.snapshots  # and the good file loaded


def test_bad_input_loads_good_rows_and_quarantines_bad_ones_with_reasons(
    ctx: IngestionContext,
) -> None:
    bad_prices = (
        "date,symbol,open,high,low,close,volume\n"
        "2024-01-02,AAA,10,11,9.5,10.5,1000\n"  # good
        "2024-01-03,AAA,abc,11,9.5,10.5,1000\n"  # mixed types
        "2024-01-04,ZZZ,10,11,9.5,10.5,1000\n"  # unknown symbol: registered, loaded
        "2099-01-05,BBB,10,11,9.5,10.5,1000\n"  # future date
        "2024-01-05,BBB,10,9,9.5,10.5,1000\n"  # high < open/close
        "2024-01-08,BBB,-1,11,-2,10.5,1000\n"  # non-positive
        "2024-01-09,BBB,10,11,9.5,10.5,1000,extra\n"  # malformed line
        "2024-01-10,BBB,10,11,9.5,10.5,1000\n"  # good
        "2024-01-10,BBB,10,11,9.5,10.5,1000\n"  # exact duplicate
        "not-a-date,BBB,10,11,9.5,10.5,1000\n"  # bad date
    )
    _drop(
        ctx,
        {
            "sectors.csv": SECTORS,
            "prices.csv": bad_prices,
            "empty.csv": "",
            "weird.csv": "foo,bar\n1,2\n",
        },
    )
    summary = _ingest(ctx)
    assert summary.status == "succeeded_with_warnings"
    outcome = summary.sources[0]
    prices = next(d for d in outcome.datasets if d.dataset == "prices")
    assert prices.rows_loaded == 3 and prices.snapshot_id
    assert prices.reasons == {
        "duplicate_row": 1,
        "future_date": 1,
        "invalid_date": 1,
        "invalid_open": 1,
        "non_positive_price": 1,
        "ohlc_inconsistent": 1,
    }
    assert outcome.registered is not None and outcome.registered.first == ["ZZZ"]
    issues = {(i.file, i.reason) for i in outcome.issues}
    assert {
        ("empty.csv", "empty_file"),
        ("weird.csv", "unrecognised_columns"),
        ("prices.csv", "malformed_lines"),
    } <= issues
    quarantined = _quarantine(ctx, summary, "prices")
    by_line = dict(zip(quarantined["_line"], quarantined["reason"], strict=True))
    assert by_line[3] == "invalid_open"
    assert by_line[5] == "future_date"
    assert "ohlc_inconsistent" in by_line[6]
    assert "non_positive_price" in by_line[7]
    report = json.loads(ctx.store.get_bytes(outcome.report_key or ""))
    assert report["datasets"]["prices"]["rows_quarantined"] == len(quarantined)
    assert "quarantined" in summary.message


def test_all_rows_bad_fails_without_a_snapshot(ctx: IngestionContext) -> None:
    _drop(ctx, {"prices.csv": "date,symbol,open\n2024-01-02,AAA,10\n"})
    summary = _ingest(ctx)
    assert summary.status == "failed"
    assert ctx.snapshots.latest("prices") is None
    prices = summary.sources[0].datasets[0]
    assert prices.errors and "missing" in prices.errors[0]


def test_no_files_fails_readably(ctx: IngestionContext) -> None:
    summary = _ingest(ctx, prefix="landing/nothing/")
    assert summary.status == "failed"
    assert "no_files" in summary.message


def test_same_files_twice_is_idempotent(ctx: IngestionContext) -> None:
    _drop(ctx, {"sectors.csv": SECTORS, "prices.csv": LONG})
    _ingest(ctx)
    history = ctx.snapshots.history("prices")
    _drop(ctx, {"sectors.csv": SECTORS, "prices.csv": LONG}, prefix="landing/batch-2/")
    again = _ingest(ctx, prefix="landing/batch-2/")
    assert again.status == "succeeded" and again.snapshots == {}
    assert again.sources[0].already_applied  # same names, ETags and sizes: skipped outright
    assert ctx.snapshots.history("prices") == history
    assert len(_lake_frame(ctx, "prices")) == 4


def test_suspicious_split_jump_is_quarantined(ctx: IngestionContext) -> None:
    rows = ["date,symbol,open,high,low,close,volume"]
    closes = [100, 101, 102, 51, 51.5]  # an unadjusted 2:1 split on day 4
    for i, close in enumerate(closes):
        day = pd.Timestamp("2024-01-02") + pd.offsets.BDay(i)
        rows.append(f"{day:%Y-%m-%d},AAA,{close},{close},{close},{close},100")
    _drop(ctx, {"sectors.csv": SECTORS, "prices.csv": "\n".join(rows) + "\n"})
    summary = _ingest(ctx)
    prices = next(d for d in summary.sources[0].datasets if d.dataset == "prices")
    assert prices.rows_loaded == 3
    assert prices.reasons == {"suspicious_split_jump": 2}


@pytest.mark.parametrize("dataset", ["sentiment", "universe"])
def test_generic_schemas_are_recognised_by_columns(ctx: IngestionContext, dataset: str) -> None:
    body = {
        "sentiment": "date,symbol,score,mentions\n2024-01-02,AAA,0.5,10\n",
        "universe": "universe,symbol,start_date,end_date\nus_all,AAA,2020-01-01,\n",
    }[dataset]
    _drop(ctx, {"sectors.csv": SECTORS, "data.csv": body})
    summary = _ingest(ctx)
    assert summary.status == "succeeded", summary.message
    assert dataset in summary.snapshots


def test_many_bad_files_are_counted_not_listed_without_bound(ctx: IngestionContext) -> None:
    _drop(ctx, {f"empty-{i:03d}.csv": "" for i in range(105)})
    summary = _ingest(ctx)
    issues = summary.sources[0].issues
    assert len(issues) == 101
    assert issues[-1].reason == "more_issues" and issues[-1].file == "(+5 more files)"


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("AAPL.csv", "AAPL"),
        ("x/aapl.us.txt", "AAPL"),
        ("BRK.B.csv", "BRK.B"),
        ("msft.csv.gz", "MSFT"),
    ],
)
def test_per_symbol_files_are_named_by_their_file(name: str, symbol: str) -> None:
    assert _symbol_from_name(name) == symbol


def test_same_rows_in_differently_named_files_add_nothing(ctx: IngestionContext) -> None:
    # a different file name is a different batch fingerprint, but the rows are the same:
    # the per-dataset batch marker and the content hashes keep the lake unchanged
    _drop(ctx, {"sectors.csv": SECTORS, "prices.csv": LONG})
    _ingest(ctx)
    history = ctx.snapshots.history("prices")
    _drop(ctx, {"sectors.csv": SECTORS, "renamed_prices.csv": LONG}, prefix="landing/b3/")
    again = _ingest(ctx, prefix="landing/b3/")
    assert again.status == "succeeded" and again.snapshots == {}
    assert not again.sources[0].already_applied
    assert all(d.unchanged for d in again.sources[0].datasets)
    assert ctx.snapshots.history("prices") == history


def test_a_changed_file_is_a_new_batch(ctx: IngestionContext) -> None:
    _drop(ctx, {"sectors.csv": SECTORS, "prices.csv": LONG})
    _ingest(ctx)
    _drop(ctx, {"prices.csv": LONG + "2024-01-04,AAA,11,12,10.5,11.5,900\n"})
    again = _ingest(ctx)
    assert again.snapshots.keys() == {"prices"}
    assert len(_lake_frame(ctx, "prices")) == 5
