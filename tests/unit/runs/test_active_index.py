"""The sparse index of runs in flight: a run carries its keys only while ``queued`` or
``running``; restart reconciliation and the sweeper find the runs in flight through it, never
by scanning the table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from quantdesk import aws, keys
from quantdesk.clock import iso, now_iso
from quantdesk.runs.executions import Executions
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import Progress, RunAccepted, RunError, RunRequest
from quantdesk.runs.reconcile import end_runs_in_flight
from quantdesk.runs.reconciler import RunReconciler
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.service import RunService
from tests.unit.local.test_scenario_run_asl import machine  # noqa: F401 - the ASL fixture
from tests.unit.runs.test_result_cache import computed, request  # noqa: F401 - cached runs
from tests.unit.stream.run_writer import mark_running, queued_run


def active_keys(run_id: str) -> tuple[str | None, str | None]:
    item = aws.client("dynamodb").get_item(
        TableName=resources.TABLE.name,
        Key={k: {"S": v} for k, v in keys.run_key(run_id).items()},
        ConsistentRead=True,
    )["Item"]
    return tuple(  # type: ignore[return-value]
        item[name]["S"] if name in item else None for name in (keys.ACTIVE_PK, keys.ACTIVE_SK)
    )


def stored(repo: RunRepository, status: str = "queued", age_s: float = 0) -> str:
    run_id = new_run_id()
    repo.create(queued_run(run_id, now=iso(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s))))
    if status == "running":
        mark_running(repo, run_id)
    return run_id


def test_a_run_is_in_the_index_only_while_in_flight(service: RunService) -> None:
    # Given a run the API accepted: in the queued partition since it was stored
    accepted = service.start(RunRequest(scenario_id="trend_strength"), "alice")
    run = service.repo.get(accepted.run_id)
    assert run is not None
    assert active_keys(run.run_id) == ("ACTIVE#queued", run.created_at)
    # When it runs it moves to the running partition; when cancelled it leaves the index
    mark_running(service.repo, run.run_id)
    assert active_keys(run.run_id)[0] == "ACTIVE#running"
    service.cancel(run.run_id, "alice")
    assert active_keys(run.run_id) == (None, None)
    assert service.repo.in_flight() == []


@pytest.mark.parametrize("status", ["failed", "timed_out", "cancelled"])
def test_every_end_through_the_repository_leaves_the_index(
    service: RunService, status: str
) -> None:
    run_id = stored(service.repo, "running")
    service.repo.finish(run_id, status, now_iso(), RunError(type="X", message="y"))
    assert active_keys(run_id) == (None, None)


def test_a_cached_run_is_born_ended_and_never_indexed(
    service: RunService,
    computed: RunAccepted,  # noqa: F811 - the fixture imported above
) -> None:
    again = service.start(request(params={"universe": "us_large_cap"}), "alice")
    assert again.cached
    assert active_keys(again.run_id) == (None, None)


@pytest.mark.parametrize(("worker", "status"), [("succeed", "succeeded"), ("fail", "failed")])
def test_the_state_machines_ends_leave_the_index(
    machine: Any,  # noqa: F811 - the fixture imported above
    worker: str,
    status: str,
) -> None:
    run, _ = machine(worker)
    assert run.status == status and run.started_at
    assert active_keys(run.run_id) == (None, None)


def test_the_sweeper_finds_exactly_the_stale_runs_without_a_scan(
    service: RunService, scans: list[str]
) -> None:
    repo = service.repo
    # Given old and fresh queued runs, a running run silent for two hours, a running run that
    # entered running two hours ago but reported progress a moment ago, and an ended old run
    old_queued, _fresh_queued = stored(repo, age_s=3600), stored(repo, age_s=1)
    silent = stored(repo, "running", age_s=7200)
    progressing = stored(repo, "running", age_s=7200)
    repo.record_progress(progressing, Progress(step="computing", percent=50.0), now_iso())
    ended = stored(repo, age_s=3600)
    repo.finish(ended, "cancelled", now_iso(), RunError(type="Cancelled", message="x"))
    # When the stale runs are listed with the sweeper's bounds
    now = dt.datetime.now(dt.UTC)
    stale = repo.stale_runs(
        {
            "queued": iso(now - dt.timedelta(seconds=300)),
            "running": iso(now - dt.timedelta(seconds=1200)),
        }
    )
    # Then exactly the old queued and the silent running run are found, by Query
    assert sorted(stale) == sorted([(old_queued, "queued"), (silent, "running")])
    # and the sweep (no executions exist) ends the never-started queued run
    machine_arn = resources.state_machine_arn(resources.SCENARIO_RUN.name, REGION, ACCOUNT)
    report = RunReconciler(repo, Executions(machine_arn)).sweep(300, 1200, now)
    assert report.ended == {old_queued: "failed"}
    assert scans == []


def test_a_store_from_before_the_index_gets_it_with_its_runs_in_flight(
    moto_aws: None, scans: list[str]
) -> None:
    # Given a table stored before the active index, with runs in flight and one ended
    repo = _table_from_before_the_index()
    queued, running, done = (_legacy(repo, status) for status in ("queued", "running", "failed"))
    # When the restart reconciles the runs in flight
    ended = end_runs_in_flight(repo)
    # Then the table got the index (one Scan backfilled it) and both runs in flight ended
    assert _has_the_index(repo)
    assert sorted(ended) == sorted([queued, running]) and done not in ended
    assert len(scans) == 1
    # and the next restart finds the index there: no Scan
    assert end_runs_in_flight(repo) == []
    assert len(scans) == 1


def test_a_restart_that_dies_in_the_backfill_leaves_it_to_the_next_restart(
    moto_aws: None,
) -> None:
    # Given a store from before the index with runs in flight, and a restart that dies while
    # it gives them the index's keys (after the first of them)
    repo = _table_from_before_the_index()
    in_flight = [_legacy(repo, "queued"), _legacy(repo, "running")]
    db = aws.client("dynamodb")
    writes: list[int] = []

    def die_after_one(**_: Any) -> None:
        writes.append(1)
        if len(writes) == 2:
            raise SystemExit("killed")

    db.meta.events.register("before-call.dynamodb.UpdateItem", die_after_one)
    try:
        with pytest.raises(SystemExit):
            end_runs_in_flight(repo)
    finally:
        db.meta.events.unregister("before-call.dynamodb.UpdateItem", die_after_one)
    # When the next restart reconciles, every run in flight is found and ended
    assert sorted(end_runs_in_flight(repo)) == sorted(in_flight)
    assert _has_the_index(repo)


def _table_from_before_the_index() -> RunRepository:
    """The runs table replaced by one created as before the active index existed."""
    db = aws.client("dynamodb")
    db.delete_table(TableName=resources.TABLE.name)
    old = resources.TABLE.create_kwargs()
    old["GlobalSecondaryIndexes"] = [
        g for g in old["GlobalSecondaryIndexes"] if g["IndexName"] != keys.ACTIVE_INDEX
    ]
    old["AttributeDefinitions"] = [
        a
        for a in old["AttributeDefinitions"]
        if a["AttributeName"] not in (keys.ACTIVE_PK, keys.ACTIVE_SK)
    ]
    db.create_table(**old)
    return RunRepository(resources.TABLE.name)


def _has_the_index(repo: RunRepository) -> bool:
    table = aws.client("dynamodb").describe_table(TableName=repo.table)["Table"]
    return keys.ACTIVE_INDEX in {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}


def _legacy(repo: RunRepository, status: str) -> str:
    """A run item as stored before the index: no index keys, whatever its status."""
    run_id = new_run_id()
    db = aws.client("dynamodb")
    db.put_item(**repo.put_new(queued_run(run_id)))
    db.update_item(
        TableName=repo.table,
        Key={k: {"S": v} for k, v in keys.run_key(run_id).items()},
        UpdateExpression="SET #s = :s REMOVE #apk, #ask",
        ExpressionAttributeNames={"#s": "status", "#apk": keys.ACTIVE_PK, "#ask": keys.ACTIVE_SK},
        ExpressionAttributeValues={":s": {"S": status}},
    )
    return run_id
