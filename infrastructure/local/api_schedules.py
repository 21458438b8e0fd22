"""EventBridge Scheduler schedules created through the API (one per scheduled watch), fired by
the local cloud as Scheduler fires them.

The endpoint stores schedules (``CreateSchedule``/``UpdateSchedule``/``DeleteSchedule``) but
never fires one, and :mod:`infrastructure.local.scheduler` fires only the template's. Here the
endpoint's schedules are listed every ``refresh_s``; each enabled one with a Lambda target fires
when its expression comes due in its time zone (``next_fire``), invoking the target
asynchronously with the target's ``Input``, ``<aws.scheduler.scheduled-time>`` replaced as
Scheduler replaces it. A schedule changed or disabled in between is picked up at the next
refresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from quantdesk.schedule_expressions import next_fire

log = logging.getLogger("quantdesk.local.api_schedules")

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class ApiSchedules:
    def __init__(
        self,
        scheduler: Any,
        invoke: Callable[[str, bytes], None],
        name_prefix: str,
        refresh_s: float = 5.0,
    ) -> None:
        self._scheduler = scheduler
        self._invoke = invoke
        self._prefix = name_prefix
        self._refresh_s = refresh_s
        #: name -> (expression, time zone, the next firing)
        self._due: dict[str, tuple[str, str, dt.datetime]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="api-schedules", daemon=True)
        #: (schedule name, scheduled time) of every firing, for tests and diagnostics
        self.fired: list[tuple[str, dt.datetime]] = []

    def start(self) -> ApiSchedules:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_s):
            try:
                self.tick(dt.datetime.now(dt.UTC))
            except Exception:  # the endpoint is going down, or a malformed schedule
                log.exception("could not fire the API's schedules")

    def tick(self, now: dt.datetime) -> None:
        """Fire what came due by ``now``; learn new, changed and deleted schedules."""
        listed = self._scheduler.list_schedules(NamePrefix=self._prefix).get("Schedules", [])
        names = {s["Name"] for s in listed if s.get("State", "ENABLED") == "ENABLED"}
        for name in list(self._due):
            if name not in names:
                del self._due[name]
        for name in sorted(names):
            schedule = self._scheduler.get_schedule(Name=name)
            expression = schedule["ScheduleExpression"]
            zone = schedule.get("ScheduleExpressionTimezone") or "UTC"
            known = self._due.get(name)
            if known is None or known[:2] != (expression, zone):
                self._due[name] = (expression, zone, next_fire(expression, now, zone))
                continue
            due = known[2]
            if due <= now:
                self._fire(name, schedule["Target"], due)
                self._due[name] = (expression, zone, next_fire(expression, now, zone))

    def _fire(self, name: str, target: dict[str, Any], at: dt.datetime) -> None:
        arn = str(target["Arn"])
        if ":lambda:" not in arn:
            log.warning("schedule %s: only Lambda targets run locally", name)
            return
        when = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = str(target.get("Input", "{}")).replace(SCHEDULED_TIME, when)
        log.info("schedule %s fired", name)
        self.fired.append((name, at))
        self._invoke(arn.rsplit(":", 1)[-1], payload.encode())
