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
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from infrastructure.resources import Schedule

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

log = logging.getLogger("quantdesk.local.scheduler")

_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}


def _expand(field: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """AWS cron field -> allowed values (None = any)."""
    if field in ("*", "?"):
        return None
    values: set[int] = set()
    for item in field.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = names.get(a) or int(a), names.get(b) or int(b)
        else:
            start = names.get(part) or int(part)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


def next_fire(expression: str, after: dt.datetime, tz: str = "UTC") -> dt.datetime:
    """The first time strictly after ``after`` (aware) that ``expression`` fires."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return after + dt.timedelta(**{f"{unit}s": amount})
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    if not cron:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"AWS cron needs 6 fields: {expression!r}")
    minutes, hours, dom, months, dow, years = fields
    allowed = (
        _expand(minutes, 0, 59, {}),
        _expand(hours, 0, 23, {}),
        _expand(dom, 1, 31, {}),
        _expand(months, 1, 12, _MONTH_NAMES),
        _expand(dow, 1, 7, _DAY_NAMES),
        _expand(years, 1970, 2199, {}),
    )
    zone = ZoneInfo(tz)
    candidate = after.astimezone(zone).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for _ in range(60 * 24 * 366):
        aws_dow = candidate.isoweekday() % 7 + 1  # AWS: 1 = Sunday
        checks = (
            candidate.minute,
            candidate.hour,
            candidate.day,
            candidate.month,
            aws_dow,
            candidate.year,
        )
        if all(a is None or v in a for a, v in zip(allowed, checks, strict=True)):
            return candidate
        candidate += dt.timedelta(minutes=1)
    raise ValueError(f"{expression!r} never fires within a year")


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
