"""The prompt log against moto: one item per suggest, choices appended under the owner's key."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest

from quantdesk import aws, keys
from quantdesk.prompt_analytics.models import Card, Choice
from quantdesk.prompt_analytics.store import PromptLog
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.service import queued_run
from quantdesk.settings import get_settings
from scenarios.registry import get_spec

DAY = dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
CARDS = [
    Card(rank=1, scenario_id="trend_strength", score=0.7, params={"tickers": ["AAPL"]}),
    Card(rank=2, scenario_id="risk_watchlist", score=0.5),
]


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def log(moto_aws: None) -> PromptLog:
    return PromptLog(get_settings().table_name)


def suggest(log: PromptLog, owner: str, at: dt.datetime, prompt: str = "AAPL") -> str:
    suggest_id = log.record_suggest(
        owner, prompt=prompt, prompt_hash="h", no_match=False, cards=CARDS, at=at
    )
    assert suggest_id is not None
    return suggest_id


def test_a_window_reads_the_owners_suggests_of_those_days_only(log: PromptLog) -> None:
    before = suggest(log, "alice", DAY - dt.timedelta(milliseconds=1), "before")
    first = suggest(log, "alice", DAY, "first")
    last = suggest(log, "alice", DAY + dt.timedelta(hours=23, minutes=59), "last")
    suggest(log, "alice", DAY + dt.timedelta(days=1), "after")
    suggest(log, "bob", DAY + dt.timedelta(hours=1), "bob's")
    records, truncated = log.suggests("alice", ms(DAY), ms(DAY + dt.timedelta(days=1)))
    assert [r.prompt for r in records] == ["first", "last"]
    assert [r.suggest_id for r in records] == [first, last]
    assert before < first < last
    assert truncated is False
    assert records[0].cards == CARDS
    assert records[0].at == "2024-05-02T00:00:00.000Z"


def test_a_choice_is_appended_only_to_the_owners_suggest_showing_that_card(
    log: PromptLog,
) -> None:
    suggest_id = suggest(log, "alice", DAY)
    chosen = Choice(run_id="r" * 26, rank=2, scenario_id="risk_watchlist", at="t")
    assert log.record_choice("alice", suggest_id, chosen) is True
    # another owner cannot attach a choice to it, nor can a card it did not show at that rank
    assert log.record_choice("mallory", suggest_id, chosen) is False
    assert log.record_choice("alice", suggest_id, chosen.model_copy(update={"rank": 1})) is False
    assert log.record_choice("alice", suggest_id, chosen.model_copy(update={"rank": 9})) is False
    assert log.record_choice("alice", "0" * 26, chosen) is False
    records, _ = log.suggests("alice", ms(DAY), ms(DAY) + 1)
    assert records[0].choices == [chosen]
    assert log.suggests("mallory", ms(DAY), ms(DAY) + 1)[0] == []


def test_run_statuses_only_of_the_owners_runs(log: PromptLog) -> None:
    spec = get_spec("trend_strength")
    assert spec is not None
    repo = RunRepository(get_settings().table_name)
    for run_id, owner in (("a" * 26, "alice"), ("b" * 26, "bob")):
        repo.create(queued_run(run_id, owner, spec, {}, code_version="t"), None)
    statuses = log.run_statuses("alice", ["a" * 26, "b" * 26, "c" * 26])
    assert statuses == {"a" * 26: "queued"}


def test_a_failed_write_is_logged_not_raised(
    log: PromptLog, caplog: pytest.LogCaptureFixture
) -> None:
    aws.client("dynamodb").delete_table(TableName=get_settings().table_name)
    suggest_id = log.record_suggest("alice", prompt="p", prompt_hash="h", no_match=True, cards=[])
    chosen = Choice(run_id="r" * 26, rank=1, scenario_id="s", at="t")
    assert log.record_choice("alice", suggest_id, chosen) is False  # waits for the write first
    assert "suggest not recorded" in caplog.text


def test_the_write_happens_in_the_background_and_readers_wait_for_it(
    log: PromptLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a slow PutItem
    gate = threading.Event()
    real = log._put

    def slow(item: dict[str, Any]) -> None:
        gate.wait(5)
        real(item)

    monkeypatch.setattr(log, "_put", slow)
    # When a suggest is recorded, the call returns before the write is done...
    started = time.perf_counter()
    suggest_id = suggest(log, "alice", DAY)
    assert time.perf_counter() - started < 1.0
    key = {k: {"S": v} for k, v in keys.suggest_key("alice", suggest_id).items()}
    table = get_settings().table_name
    assert "Item" not in aws.client("dynamodb").get_item(TableName=table, Key=key)
    # ...and a reader waits for it
    gate.set()
    records, _ = log.suggests("alice", ms(DAY), ms(DAY) + 1)
    assert [r.suggest_id for r in records] == [suggest_id]
