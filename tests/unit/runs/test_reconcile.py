"""Ending runs nothing will finish: through the repository's conditional transition (so the
terminal event is emitted), never touching a run that is already over."""

from __future__ import annotations

from quantdesk.runs.models import RunRequest
from quantdesk.runs.reconcile import end_runs_in_flight
from quantdesk.runs.service import RunService
from tests.unit.stream.run_writer import mark_running


def test_runs_in_flight_end_failed_with_the_reason(service: RunService, scans: list[str]) -> None:
    # Given a queued run, a running one and one the user cancelled
    queued, running, cancelled = (
        service.start(RunRequest(scenario_id="trend_strength"), "alice").run_id for _ in range(3)
    )
    mark_running(service.repo, running)
    service.cancel(cancelled, "alice")
    # When the runs in flight are reconciled
    ended = end_runs_in_flight(service.repo)
    # Then the two in flight end failed, each with one more event; the cancelled one is left
    assert sorted(ended) == sorted([queued, running])
    for run_id, events in ((queued, 2), (running, 3)):
        run = service.repo.get(run_id)
        assert run is not None
        assert (run.status, run.event_seq) == ("failed", events)
        assert run.error is not None
        assert (run.error.type, run.error.message) == ("Interrupted", "interrupted by a restart")
    still = service.repo.get(cancelled)
    assert still is not None and still.status == "cancelled"
    # And the ended runs left the active index, through which they were found (no Scan)
    assert service.repo.in_flight() == []
    assert end_runs_in_flight(service.repo) == []
    assert scans == []
