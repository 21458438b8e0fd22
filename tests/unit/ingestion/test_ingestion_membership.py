"""Universe membership from dated changes: removed names stay in history with their interval."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from quantdesk.datalake.reader import Lake, read_partitions, universe_members
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.ingestion import pipeline
from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import membership
from quantdesk.ingestion.sources.base import FetchRequest
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.vendor_replay import Replay, recording

KEY = "reference/universe_changes.csv"


def _universe(ctx: IngestionContext) -> pd.DataFrame:
    lake = Lake(ctx.store, ctx.snapshots)
    record = ctx.snapshots.latest("universe")
    assert record is not None
    frame, _ = read_partitions(lake, "universe", load_manifest(ctx.store, record))
    return frame


def test_changes_become_intervals_and_a_removed_name_keeps_its_history(ctx: IngestionContext):
    ctx.store.put_bytes(KEY, recording("membership_changes.csv"))
    outcome = run_source(FetchRequest(source="membership"), "ing-members", ctx)
    assert outcome.status == "succeeded", outcome.message
    frame = _universe(ctx)
    sivb = frame[frame["symbol"] == "SIVB"].iloc[0]
    assert sivb["start_date"] == pd.Timestamp("2019-01-02")
    assert sivb["end_date"] == pd.Timestamp("2023-03-15")
    # point in time: a member before its removal, not after; a later addition only after
    assert "SIVB" in universe_members(frame, "us_large_cap", dt.date(2023, 3, 14))
    assert "SIVB" not in universe_members(frame, "us_large_cap", dt.date(2023, 3, 15))
    assert "UBER" not in universe_members(frame, "us_large_cap", dt.date(2023, 12, 15))
    assert universe_members(frame, "us_large_cap", dt.date(2024, 1, 2)) == ["AAPL", "MSFT", "UBER"]


def test_the_same_file_again_is_skipped_and_a_removal_closes_the_open_interval(
    ctx: IngestionContext,
) -> None:
    ctx.store.put_bytes(KEY, recording("membership_changes.csv"))
    run_source(FetchRequest(source="membership"), "ing-m1", ctx)
    again = run_source(FetchRequest(source="membership"), "ing-m2", ctx)
    assert again.already_applied == "ing-m1"
    ctx.store.put_bytes(
        KEY, recording("membership_changes.csv") + b"2024-06-24,us_large_cap,MSFT,removed\n"
    )
    outcome = run_source(FetchRequest(source="membership"), "ing-m3", ctx)
    assert outcome.datasets[0].rows_added == 0  # the open interval is closed, not doubled
    msft = _universe(ctx).query("symbol == 'MSFT'")
    assert msft["end_date"].tolist() == [pd.Timestamp("2024-06-24")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("2024-01-02,us_large_cap,TSLA,removed\n", "line 7: TSLA removed while not a member"),
        ("2024-01-02,us_large_cap,AAPL,added\n", "line 7: AAPL added while a member"),
        ("2024-01-02,us_large_cap,AAPL,maybe\n", "line 7: change must be added or removed"),
        ("someday,us_large_cap,IBM,added\n", "line 7: unreadable date"),
    ],
)
def test_an_inconsistent_changes_file_is_refused_whole(extra: str, message: str) -> None:
    body = recording("membership_changes.csv") + extra.encode()
    with pytest.raises(MalformedPayloadError, match=message) as caught:
        membership.read_changes("changes.csv", body)
    assert caught.value.payload == body


def test_a_malformed_file_is_quarantined_and_nothing_written(ctx: IngestionContext) -> None:
    body = recording("membership_changes.csv") + b"2024-01-02,us_large_cap,TSLA,removed\n"
    ctx.store.put_bytes(KEY, body)
    outcome = run_source(FetchRequest(source="membership"), "ing-bad", ctx)
    assert outcome.status == "failed"
    (issue,) = outcome.issues
    assert (issue.file, issue.reason, issue.dataset) == (KEY, "malformed_payload", "universe")
    assert (
        ctx.store.get_bytes(
            "quarantine/ing-bad/membership/payloads/universe-reference_universe_changes.csv"
        )
        == body
    )
    assert ctx.snapshots.latest("universe") is None


def test_the_list_can_come_from_a_url(ctx: IngestionContext, monkeypatch) -> None:
    replay = Replay(lambda r: (200, recording("membership_changes.csv")))
    monkeypatch.setattr(
        pipeline, "get_source", lambda name: membership.MembershipSource(http=replay.client())
    )
    url = "https://example.org/sp500_changes.csv"
    outcome = run_source(FetchRequest(source="membership", options={"url": url}), "ing-u", ctx)
    assert outcome.datasets[0].rows_loaded == 4 and replay.urls() == [url]


def test_no_file_is_a_clear_config_error(ctx: IngestionContext) -> None:
    with pytest.raises(SourceConfigError, match="upload one"):
        membership.MembershipSource().fetch(FetchRequest(source="membership"), ctx.store)
