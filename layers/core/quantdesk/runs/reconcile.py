"""Ending runs that nothing will finish any more: after the local cloud restarts (their
executions died with it), and for any sweeper that finds runs stuck in flight.

A run is ended through the repository's normal conditional transition (``queued``/``running``
-> terminal, ``event_seq`` bumped), so its terminal event reaches the stream and every viewer
closes as for any other end; a run that finished meanwhile is left alone.
"""

from __future__ import annotations

from quantdesk.clock import now_iso
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import NotActive, RunRepository

RESTART_REASON = "interrupted by a restart"


def end_runs_in_flight(
    repo: RunRepository, *, reason: str = RESTART_REASON, error_type: str = "Interrupted"
) -> list[str]:
    """End every ``queued`` or ``running`` run as ``failed`` with ``reason``; the ids ended.

    The runs come from the sparse active index (no Scan); a store written before that index
    existed gets it first, with its runs in flight (:meth:`RunRepository.ensure_active_index`)."""
    repo.ensure_active_index()
    ended = []
    for run_id in repo.in_flight():
        try:
            repo.finish(run_id, "failed", now_iso(), RunError(type=error_type, message=reason))
        except NotActive:  # it reached a terminal state on its own meanwhile
            continue
        ended.append(run_id)
    return ended
