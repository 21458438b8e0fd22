"""The Stooq source on recorded answers: parsing, incremental fetches, a re-based history,
vendor errors per symbol, malformed payloads quarantined whole."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from quantdesk.datalake.reader import Lake
from quantdesk.ingestion import pipeline
from quantdesk.ingestion.errors import (
    MalformedPayloadError,
    SourceConfigError,
    SourceUnavailableError,
)
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import lake_state, stooq
from quantdesk.ingestion.sources.base import FetchRequest
from quantdesk.ingestion.sources.vendor_batch import VendorBatch
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.vendor_replay import Replay, query, recording

SYMBOLS = ["AAPL", "MSFT"]


def stooq_window(url: str, *, scale: float = 1.0) -> tuple[int, bytes]:
    """Stooq's answer for ``s``, cut to ``d1``..``d2`` as the vendor does."""
    params = query(url)
    frame = pd.read_csv(io.BytesIO(recording(f"stooq_{params['s']}.csv")))
    if "d1" in params:
        days = pd.to_datetime(frame["Date"]).dt.strftime("%Y%m%d")
        frame = frame[(days >= params["d1"]) & (days <= params["d2"])]
    frame[["Open", "High", "Low", "Close"]] *= scale
    return 200, frame.to_csv(index=False).encode()


def source(replay: Replay, ctx: IngestionContext) -> stooq.StooqSource:
    return stooq.StooqSource(http=replay.client("Stooq"), lake=Lake(ctx.store, ctx.snapshots))


def ingest(ctx: IngestionContext, replay: Replay, run_id: str, monkeypatch) -> object:
    monkeypatch.setattr(pipeline, "get_source", lambda name: source(replay, ctx))
    request = FetchRequest(source="stooq", options={"symbols": SYMBOLS})
    return run_source(request, run_id, ctx)


def test_a_recorded_answer_parses_to_canonical_price_rows() -> None:
    frame = stooq.parse_prices("AAPL", recording("stooq_aapl.us.csv"))
    assert list(frame.columns) == ["date", "symbol", "open", "high", "low", "close", "volume"]
    assert len(frame) == 5 and set(frame["symbol"]) == {"AAPL"}
    assert frame["date"].iloc[0] == pd.Timestamp("2024-01-02")
    assert frame["close"].iloc[-1] == pytest.approx(184.45)
    assert frame["volume"].iloc[0] == 82488674


def test_no_data_is_empty_and_the_daily_limit_is_the_vendor_unavailable() -> None:
    assert stooq.parse_prices("ZZZZ", recording("stooq_nodata.txt")).empty
    with pytest.raises(SourceUnavailableError):
        stooq.parse_prices("AAPL", recording("stooq_limit.txt"))


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service temporarily unavailable</body></html>",
        b"Date,Open,High,Low,Close,Volume\n2024-01-02,186.03,187.32,oops,184.53,1\n",
        b"Date,Price\n2024-01-02,1\n",
    ],
)
def test_a_malformed_answer_is_refused_whole(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError) as caught:
        stooq.parse_prices("AAPL", body)
    assert caught.value.payload == body


def test_tickers_follow_stooq_conventions() -> None:
    assert stooq.stooq_ticker("AAPL") == "aapl.us"
    assert stooq.stooq_ticker("BRK.B") == "brk-b.us"


def test_both_symbols_load_and_a_second_run_fetches_only_new_days(
    ctx: IngestionContext, monkeypatch
) -> None:
    # Given the lake holds the first three days (a first run against a shorter history)
    early = Replay(lambda r: stooq_window(r) if "d1" in query(r) else _first_days(r, 3))
    first = ingest(ctx, early, "ing-stooq-1", monkeypatch)
    assert first.status == "succeeded", first.message
    assert first.datasets[0].rows_loaded == 6
    # When the source runs again with the vendor's full history
    replay = Replay(stooq_window)
    second = ingest(ctx, replay, "ing-stooq-2", monkeypatch)
    # Then it asked only from the lake's last day on, and added only the two new days each
    assert {query(u)["d1"] for u in replay.urls()} == {"20240104"}
    assert second.status == "succeeded", second.message
    assert second.datasets[0].rows_added == 4 and second.datasets[0].rows_replaced == 0
    last = lake_state.last_closes(Lake(ctx.store, ctx.snapshots))
    assert last["AAPL"] == (pd.Timestamp("2024-01-08").date(), pytest.approx(184.45))


def _first_days(url: str, days: int) -> tuple[int, bytes]:
    _, body = stooq_window(url)
    return 200, b"\n".join(body.splitlines()[: days + 1]) + b"\n"


def test_a_rebased_history_is_fetched_whole(ctx: IngestionContext, monkeypatch) -> None:
    # Given the lake holds three days adjusted on an older basis (before a dividend)
    ingest(ctx, Replay(lambda r: _first_days_scaled(r, 3, 1.01)), "ing-stooq-1", monkeypatch)
    # When the vendor's overlapping close differs
    replay = Replay(stooq_window)
    outcome = ingest(ctx, replay, "ing-stooq-2", monkeypatch)
    # Then each symbol's whole history is fetched again and the old rows are replaced
    assert [("d1" in query(u)) for u in replay.urls()] == [True, False, True, False]
    assert outcome.datasets[0].rows_replaced == 6 and outcome.datasets[0].rows_added == 4


def _first_days_scaled(url: str, days: int, scale: float) -> tuple[int, bytes]:
    _, body = stooq_window(url, scale=scale)
    return 200, b"\n".join(body.splitlines()[: days + 1]) + b"\n"


def test_a_symbol_the_vendor_keeps_failing_is_reported_and_the_other_loads(
    ctx: IngestionContext, monkeypatch
) -> None:
    def answer(url: str) -> tuple[int, bytes]:
        if query(url)["s"] == "msft.us":
            return 503, b"busy"
        return stooq_window(url)

    replay = Replay(answer)
    outcome = ingest(ctx, replay, "ing-stooq-503", monkeypatch)
    assert outcome.status == "succeeded_with_warnings"
    assert outcome.datasets[0].rows_loaded == 5
    (issue,) = outcome.issues
    assert (issue.file, issue.reason, issue.dataset) == (
        "stooq msft.us",
        "vendor_unavailable",
        "prices",
    )
    # retried with backoff before giving up: 4 attempts, 3 waits growing
    assert sum("msft" in u for u in replay.urls()) == 4
    assert replay.sleeps == [1.0, 2.0, 4.0]


def test_a_rate_limited_answer_is_retried_then_loads(ctx: IngestionContext, monkeypatch) -> None:
    seen: list[str] = []

    def answer(url: str) -> tuple[int, bytes]:
        seen.append(url)
        return (429, b"slow down") if len(seen) == 1 else stooq_window(url)

    outcome = ingest(ctx, Replay(answer), "ing-stooq-429", monkeypatch)
    assert outcome.status == "succeeded", outcome.message
    assert outcome.datasets[0].rows_loaded == 10 and len(seen) == 3


def test_a_vendor_down_for_every_symbol_fails_the_source_for_a_retry(ctx: IngestionContext) -> None:
    replay = Replay(lambda r: (502, b"bad gateway"))
    request = FetchRequest(source="stooq", options={"symbols": [*SYMBOLS, "IBM", "ORCL"]})
    with pytest.raises(SourceUnavailableError):
        source(replay, ctx).fetch(request, ctx.store)
    # three symbols in a row failed: the fourth was not even asked
    assert not any("orcl" in u for u in replay.urls())


def test_a_malformed_answer_is_quarantined_with_its_ticker_and_nothing_of_it_written(
    ctx: IngestionContext, monkeypatch
) -> None:
    html = b"<html>maintenance</html>"

    def answer(url: str) -> tuple[int, bytes]:
        return (200, html) if query(url)["s"] == "msft.us" else stooq_window(url)

    outcome = ingest(ctx, Replay(answer), "ing-stooq-bad", monkeypatch)
    assert outcome.status == "succeeded_with_warnings"
    (issue,) = outcome.issues
    assert (issue.file, issue.reason) == ("stooq msft.us", "malformed_payload")
    kept = ctx.store.get_bytes("quarantine/ing-stooq-bad/stooq/payloads/prices-stooq_msft.us")
    assert kept == html
    assert ctx.snapshots.latest("prices").symbols == 1


def test_without_symbols_it_fetches_the_open_universe_members(ctx: IngestionContext) -> None:
    replay = Replay(lambda r: (200, recording("stooq_nodata.txt")))
    with pytest.raises(Exception, match="ingest a universe first"):
        source(replay, ctx).fetch(FetchRequest(source="stooq"), ctx.store)


def test_issues_stay_few_enough_for_a_step_payload() -> None:
    def refused() -> pd.DataFrame:
        raise SourceConfigError("stooq answered 404")

    collected = VendorBatch("stooq")
    for i in range(150):
        collected.attempt("prices", f"stooq s{i}.us", refused)
    issues = collected.batch({}).issues
    assert len(issues) == 101 and issues[-1].file == "(+50 more requests)"
