"""Ending runs whose workflow ended (or never started) without ending them.

The state machine writes every transition itself, but a write can fail for good (throttled past
its retries), the execution can be stopped or time out outside the run's own states, and the API
can stop between storing a run ``queued`` and starting its execution. Two safety nets end such
runs, always with a conditional update (only a ``queued`` or ``running`` run changes; terminal
states are final, so a late or repeated signal is a no-op):

* :meth:`RunReconciler.execution_ended`: fed by an EventBridge rule on Step Functions
  "Execution Status Change" events (FAILED, TIMED_OUT, ABORTED) of the scenario-run machine;
* :meth:`RunReconciler.sweep`: on a schedule, runs still ``queued`` or ``running`` after a bound
  are checked against their execution (the execution's name is the run id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from quantdesk.clock import iso, now_iso
from quantdesk.runs.executions import Executions
from quantdesk.runs.idempotency import START_FAILED
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import NotActive, RunRepository

#: Step Functions execution status -> the run state it ends the run in
ENDED: Final[dict[str, str]] = {
    "FAILED": "failed",
    "TIMED_OUT": "timed_out",
    "ABORTED": "cancelled",
}
_DEFAULT_CAUSE: Final = {
    "FAILED": "The run's workflow failed before it could record the run's end.",
    "TIMED_OUT": "The run's workflow timed out.",
    "ABORTED": "The run's workflow was stopped.",
}
NEVER_STARTED: Final = RunError(
    type=START_FAILED, message="The run's workflow never started; start the run again."
)


@dataclass
class SweepReport:
    checked: int = 0
    ended: dict[str, str] = field(default_factory=dict)


class RunReconciler:
    def __init__(self, repo: RunRepository, executions: Executions) -> None:
        self.repo = repo
        self.executions = executions

    def execution_ended(
        self, run_id: str, execution_status: str, error: str | None, cause: str | None
    ) -> str | None:
        """End the run as its execution ended; the state it ended in, None if it had already
        ended (or the status is not an end this reconciler handles)."""
        status = ENDED.get(execution_status)
        if status is None:
            return None
        reason = RunError(
            type=error or f"Execution{execution_status.title().replace('_', '')}",
            message=cause or _DEFAULT_CAUSE[execution_status],
        )
        try:
            self.repo.finish(run_id, status, now_iso(), reason)
        except NotActive:
            return None
        return status

    def sweep(self, queued_for_s: float, running_for_s: float, now: datetime) -> SweepReport:
        """End runs left ``queued`` longer than ``queued_for_s`` (or ``running`` without an
        update for ``running_for_s``) whose execution is missing or no longer running."""
        report = SweepReport()
        cutoffs = {
            "queued": iso(now - timedelta(seconds=queued_for_s)),
            "running": iso(now - timedelta(seconds=running_for_s)),
        }
        for run_id, status in self.repo.stale_runs(cutoffs):
            report.checked += 1
            execution = self.executions.describe(run_id)
            if execution is None:
                ended = self._end(run_id, "failed", NEVER_STARTED) if status == "queued" else None
            elif execution.status == "RUNNING":
                ended = None
            elif execution.status in ENDED:
                ended = self.execution_ended(
                    run_id, execution.status, execution.error, execution.cause
                )
            else:  # SUCCEEDED yet the run never reached an end: its last write was lost
                ended = self.execution_ended(run_id, "FAILED", "RunNotFinished", None)
            if ended:
                report.ended[run_id] = ended
        return report

    def _end(self, run_id: str, status: str, reason: RunError) -> str | None:
        try:
            self.repo.finish(run_id, status, now_iso(), reason)
        except NotActive:
            return None
        return status
