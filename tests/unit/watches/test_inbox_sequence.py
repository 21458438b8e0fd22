"""The owner's inbox sequence: every stored alert gets the next number, gap-free, even when
alerts of one owner are stored at once; a redelivered alert takes no number."""

from __future__ import annotations

import pytest

from quantdesk.runs.ids import new_run_id
from quantdesk.settings import get_settings
from quantdesk.watches.models import Alert, ResultDiff
from quantdesk.watches.repository import WatchRepository


def alert() -> Alert:
    run_id = new_run_id()
    return Alert(
        alert_id=run_id,
        watch_id=new_run_id(),
        run_id=run_id,
        previous_run_id=new_run_id(),
        scenario_id="trend_strength",
        created_at="2026-11-30T18:00:00.000Z",
        summary="trend_strength: 1 entry",
        diff=ResultDiff(key_column="symbol", entries=["MSFT"]),
    )


def test_an_alert_losing_the_race_for_a_number_takes_the_next(
    moto_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = WatchRepository(get_settings().table_name)
    first, second, third = alert(), alert(), alert()
    assert repo.put_alert("alice", first)
    # the second writer read the counter before the first stored its alert (a stale 0), as
    # two evaluations of one owner's watches finishing together would
    real = repo.inbox_seq
    reads: list[int] = []

    def stale_once(owner: str) -> int:
        reads.append(1)
        return 0 if len(reads) == 1 else real(owner)

    monkeypatch.setattr(repo, "inbox_seq", stale_once)
    assert repo.put_alert("alice", second)
    assert repo.put_alert("alice", third)
    # the stale number was refused once, then the next one taken
    assert len(reads) == 3
    repo.put_alert("bob", alert())
    events = repo.inbox_events_after("alice", 0, 100)
    assert [(e.seq, e.alert_id) for e in events] == [
        (1, first.alert_id),
        (2, second.alert_id),
        (3, third.alert_id),
    ]
    assert real("alice") == 3 and real("bob") == 1
    assert [e.seq for e in repo.inbox_events_after("alice", 1, 1)] == [2]


def test_a_redelivered_alert_is_stored_and_numbered_once(moto_aws: None) -> None:
    repo = WatchRepository(get_settings().table_name)
    first = alert()
    assert repo.put_alert("alice", first)
    assert not repo.put_alert("alice", first)
    assert repo.inbox_seq("alice") == 1
    assert [e.alert_id for e in repo.inbox_events_after("alice", 0)] == [first.alert_id]
    # the listing holds alerts only, never the inbox's own items
    assert [a.alert_id for a in repo.alerts("alice", 10)] == [first.alert_id]
