"""Firing watches (snapshot, schedule) through the run service, and evaluating their runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure.resources import WATCH_EVALUATE, WATCH_FIRE, WATCH_SNAPSHOTS
from quantdesk import aws
from quantdesk.datalake.repository import SnapshotRepository
from quantdesk.settings import get_settings
from quantdesk.watches.models import Channel, Threshold, Trigger, WatchRequest
from quantdesk.watches.service import WatchService
from tests.unit.watches.conftest import invoke, result, store_succeeded_run

SNAPSHOT = Trigger(on="snapshot")


def rows(*symbols: str) -> list[dict[str, Any]]:
    return [{"symbol": s, "score": 10.0 - i} for i, s in enumerate(symbols)]


def execution_succeeded(name: str) -> dict[str, Any]:
    """The EventBridge event AWS sends when an execution succeeds (the fields we read)."""
    return {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": name, "status": "SUCCEEDED"},
    }


def test_a_new_snapshot_fires_each_active_watch_reading_it_once(watches: WatchService) -> None:
    # Given an active and a paused watch on prices, and one on macro only
    on_prices = watches.create(
        WatchRequest(scenario_id="trend_strength", params={}, trigger=SNAPSHOT), "alice"
    )
    paused = watches.create(
        WatchRequest(scenario_id="trend_strength", params={}, trigger=SNAPSHOT), "alice"
    )
    watches.set_state(paused.watch_id, "alice", "paused")
    on_macro = watches.create(
        WatchRequest(scenario_id="macro_sensitivity", params={}, trigger=SNAPSHOT), "bob"
    )
    assert "prices" in on_macro.datasets  # it reads prices too
    # And an ingestion that published a new prices snapshot (its summary, as the workflow
    # stores it)
    SnapshotRepository(get_settings().table_name).put_ingestion(
        "ing-1", "2026-11-30T00:00:00Z", {"run_id": "ing-1", "snapshots": {"prices": "s1"}}
    )
    # When the ingestion's "succeeded" event arrives, twice (EventBridge delivers at least once)
    first = invoke(WATCH_SNAPSHOTS, execution_succeeded("ing-1"))
    again = invoke(WATCH_SNAPSHOTS, execution_succeeded("ing-1"))
    # Then each active watch reading prices started one run, marked with its watch
    assert first["datasets"] == ["prices"]
    assert sorted(first["runs"]) == sorted(again["runs"])
    runs = [watches.runs.repo.get(r) for r in first["runs"]]
    assert sorted((r.watch_id, r.owner, r.status) for r in runs if r) == sorted(
        [(on_prices.watch_id, "alice", "queued"), (on_macro.watch_id, "bob", "queued")]
    )
    # ...visible in the owner's history like any run
    history = watches.runs.list_runs("alice", 10, None).runs
    assert [r.run_id for r in history] == [r.run_id for r in runs if r and r.owner == "alice"]


def test_a_schedule_fires_its_watch_once_per_scheduled_time(watches: WatchService) -> None:
    trigger = Trigger(schedule="rate(1 day)", timezone="Europe/Paris")
    watch = watches.create(WatchRequest(scenario_id="trend_strength", trigger=trigger), "alice")
    schedule = aws.client("scheduler").get_schedule(Name=f"quantdesk-watch-{watch.watch_id}")
    event = {**json.loads(schedule["Target"]["Input"]), "scheduled_time": "2026-11-30T08:00:00Z"}
    first, again = invoke(WATCH_FIRE, event), invoke(WATCH_FIRE, event)
    assert first["run_id"] and first["run_id"] == again["run_id"]
    later = invoke(WATCH_FIRE, {**event, "scheduled_time": "2026-12-01T08:00:00Z"})
    assert later["run_id"] != first["run_id"]
    watches.set_state(watch.watch_id, "alice", "paused")
    assert invoke(WATCH_FIRE, {**event, "scheduled_time": "2026-12-02T08:00:00Z"})["run_id"] is None


def test_a_changed_result_becomes_an_inbox_alert_and_an_unchanged_one_does_not(
    watches: WatchService,
) -> None:
    # Given a watch on a succeeded run (the baseline), with a threshold on the score
    source = store_succeeded_run("alice", result(rows("AAPL", "MSFT", "NVDA")))
    watch = watches.create(
        WatchRequest(
            run_id=source,
            trigger=SNAPSHOT,
            thresholds=[Threshold(column="score", value=9.5)],
            channels=[Channel(type="inbox")],
        ),
        "alice",
    )

    def evaluate(event: dict[str, Any], _: None) -> Any:
        return invoke(WATCH_EVALUATE, event)

    # When a firing's run succeeds with the same rows
    same = store_succeeded_run(
        "alice", result(rows("AAPL", "MSFT", "NVDA")), watch_id=watch.watch_id
    )
    # Then there is no alert, and that run becomes the baseline
    assert evaluate(execution_succeeded(same), None)["alert"] is None
    assert watches.repo.get(watch.watch_id).baseline_run_id == same  # type: ignore[union-attr]
    # When the next one has TSLA in, NVDA out
    changed = store_succeeded_run(
        "alice", result(rows("MSFT", "AAPL", "TSLA")), watch_id=watch.watch_id
    )
    assert evaluate(execution_succeeded(changed), None)["alert"] == changed
    # Then alice's inbox has one unread alert comparing it with the previous run
    page = watches.alerts("alice", 20, unread_only=False)
    assert page.unread == 1
    (alert,) = page.alerts
    assert (alert.run_id, alert.previous_run_id) == (changed, same)
    assert (alert.diff.entries, alert.diff.exits) == (["TSLA"], ["NVDA"])
    # (scores are 10, 9, 8 by rank: MSFT rose past 9.5, AAPL fell below it)
    assert [(c.key, c.direction) for c in alert.diff.crossings] == [
        ("MSFT", "up"),
        ("AAPL", "down"),
    ]
    # ...not twice for a redelivered event, not for a run of no watch, not in bob's inbox
    assert evaluate(execution_succeeded(changed), None)["alert"] is None
    assert evaluate(execution_succeeded(source), None)["alert"] is None
    assert watches.alerts("bob", 20, unread_only=False).alerts == []
    # When she reads it
    assert watches.mark_read(alert.alert_id, "alice").read
    assert watches.alerts("alice", 20, unread_only=True).alerts == []
    assert watches.alerts("alice", 20, unread_only=False).unread == 0


def test_a_run_finishing_after_a_newer_one_is_not_compared_backwards(
    watches: WatchService,
) -> None:
    watch = watches.create(WatchRequest(scenario_id="trend_strength", trigger=SNAPSHOT), "alice")
    older = store_succeeded_run("alice", result(rows("AAPL")), watch_id=watch.watch_id)
    newer = store_succeeded_run("alice", result(rows("MSFT")), watch_id=watch.watch_id)
    # the first result of a watch without a source run only sets the baseline
    assert watches.evaluate(newer) is None
    assert watches.evaluate(older) is None
    assert watches.repo.get(watch.watch_id).baseline_run_id == newer  # type: ignore[union-attr]


def test_alerts_api_lists_and_marks_read(watches: WatchService, api_client: Any) -> None:
    from chalicelib import services  # noqa: PLC0415
    from tests.unit.runs.conftest import SignedInClient  # noqa: PLC0415

    source = store_succeeded_run("alice", result(rows("AAPL")))
    watch = watches.create(WatchRequest(run_id=source, trigger=SNAPSHOT), "alice")
    fired = store_succeeded_run("alice", result(rows("MSFT")), watch_id=watch.watch_id)
    watches.evaluate(fired)
    services.watch_service.cache_clear()
    api = SignedInClient(api_client.http, "alice")
    page = json.loads(api.get("/analysis/alerts").body)
    assert page["unread"] == 1
    assert page["alerts"][0]["diff"]["entries"] == ["MSFT"]
    read = api.post(f"/analysis/alerts/{fired}/read")
    assert json.loads(read.body)["read"] is True
    unread = json.loads(api.get("/analysis/alerts?unread=true").body)
    assert {k: unread[k] for k in ("alerts", "unread")} == {"alerts": [], "unread": 0}
    # the listing hands out the inbox stream, resuming after the one alert it could list
    assert unread["stream_url"].startswith("/inbox/stream?token=")
    assert unread["stream_url"].endswith("&last_event_id=1")
    missing = api.as_user("bob").post(f"/analysis/alerts/{fired}/read")
    assert (missing.status_code, json.loads(missing.body)["field"]) == (404, "alert_id")
    bad = api.get("/analysis/alerts?limit=0")
    assert (bad.status_code, json.loads(bad.body)["field"]) == (400, "limit")
    services.watch_service.cache_clear()


@pytest.mark.parametrize("event", [{}, {"detail": {"status": "SUCCEEDED"}}])
def test_malformed_events_are_refused(watch_env: dict[str, str], event: dict[str, Any]) -> None:
    from pydantic import ValidationError  # noqa: PLC0415

    with pytest.raises(ValidationError):
        invoke(WATCH_EVALUATE, event)


def test_a_watch_takes_the_scenarios_own_thresholds_unless_given_some(
    watches: WatchService,
) -> None:
    default = watches.create(WatchRequest(scenario_id="mean_reversion", trigger=SNAPSHOT), "a")
    assert [(t.column, t.value) for t in default.thresholds] == [("rsi", 30.0), ("rsi", 70.0)]
    tuned = watches.create(
        WatchRequest(scenario_id="mean_reversion", params={"oversold": 25}, trigger=SNAPSHOT),
        "a",
    )
    assert [t.value for t in tuned.thresholds] == [25.0, 70.0]
    given = watches.create(
        WatchRequest(
            scenario_id="mean_reversion",
            trigger=SNAPSHOT,
            thresholds=[Threshold(column="score", value=1.0)],
        ),
        "a",
    )
    assert [(t.column, t.value) for t in given.thresholds] == [("score", 1.0)]


def test_every_scenario_threshold_names_a_numeric_param() -> None:
    from scenarios.registry import specs  # noqa: PLC0415

    declared = [(s, c, p) for s in specs().values() for c, p in s.alert_thresholds]
    assert declared
    for spec, _column, param in declared:
        default = spec.params_model.model_fields[param].default
        assert isinstance(default, int | float), (spec.scenario_id, param)
