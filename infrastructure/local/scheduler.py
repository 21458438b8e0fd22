"""EventBridge Scheduler for the local cloud: fires the template's ``AWS::Scheduler::Schedule``
resources (``rate(...)``/``cron(...)`` in their timezone) by starting their target state
machines with the target's input, and the ``AWS::Events::Rule`` resources with a
``ScheduleExpression`` (``event_rules.rules_from_stack``) by invoking their target functions.
The endpoint's CloudFormation cannot create schedules (and never fires rules), so
:func:`schedules_from_stack` reads them from the deployed template."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infrastructure.resources import Schedule
from quantdesk.schedule_expressions import next_fire

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

log = logging.getLogger("quantdesk.local.scheduler")


def schedules_from_stack(stack: DeployedStack) -> tuple[Schedule, ...]:
    """The template's enabled schedules; ``state_machine`` is the target's ARN."""
    schedules = []
    for logical, props in stack.resources_of("AWS::Scheduler::Schedule").items():
        if props.get("State", "ENABLED") != "ENABLED":
            continue
        target = props["Target"]
        arn = str(stack.resolve(target["Arn"]))
        if ":states:" not in arn:
            raise ValueError(f"schedule {logical}: only state machine targets run locally")
        schedules.append(
            Schedule(
                name=str(stack.resolve(props.get("Name", logical))),
                expression=str(props["ScheduleExpression"]),
                state_machine=arn,
                input=json.loads(stack.resolve(target.get("Input", "{}"))),
                timezone=str(props.get("ScheduleExpressionTimezone", "UTC")),
            )
        )
    return tuple(schedules)


@dataclass(frozen=True)
class Job:
    """Something fired on a schedule expression: a Scheduler schedule (starts a state machine)
    or a scheduled EventBridge rule (invokes a function)."""

    name: str
    expression: str
    run: Callable[[], None]
    timezone: str = "UTC"
    #: fire at this fixed interval instead of the expression (tests, the reliability report)
    every_s: float | None = None


class Scheduler:
    """Fires each job when its expression (or its fixed interval) comes due."""

    def __init__(self, jobs: tuple[Job, ...]) -> None:
        self._jobs = jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self.fired: list[tuple[str, dt.datetime]] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _next(self, job: Job, after: dt.datetime) -> dt.datetime:
        if job.every_s:
            return after + dt.timedelta(seconds=job.every_s)
        return next_fire(job.expression, after, job.timezone)

    def _loop(self) -> None:
        now = dt.datetime.now(dt.UTC)
        due = {job.name: self._next(job, now) for job in self._jobs}
        tick = min([1.0, *(job.every_s for job in self._jobs if job.every_s)])
        while not self._stop.wait(tick):
            now = dt.datetime.now(dt.UTC)
            for job in self._jobs:
                if due[job.name] <= now:
                    self.fire(job, now)
                    due[job.name] = self._next(job, now)

    def fire(self, job: Job, at: dt.datetime) -> None:
        log.info("schedule %s fired", job.name)
        self.fired.append((job.name, at))
        try:
            job.run()
        except Exception:
            log.exception("schedule %s could not start its target", job.name)
