from __future__ import annotations

import datetime as dt
import threading

import pytest

from infrastructure.local.scheduler import Job, Scheduler, next_fire

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2026-11-27T10:00:00", "2026-11-27T10:05:00"),
        ("rate(1 day)", "2026-11-27T10:00:00", "2026-11-28T10:00:00"),
        ("cron(30 21 ? * MON-FRI *)", "2026-11-27T10:00:00", "2026-11-27T21:30:00"),  # Friday
        ("cron(30 21 ? * MON-FRI *)", "2026-11-27T21:30:00", "2026-11-30T21:30:00"),  # -> Monday
        ("cron(0/15 * * * ? *)", "2026-11-27T10:07:00", "2026-11-27T10:15:00"),
        ("cron(0 6 1 JAN,JUL ? *)", "2026-02-01T00:00:00", "2026-07-01T06:00:00"),
    ],
)
def test_next_fire_follows_aws_schedule_expressions(
    expression: str, after: str, expected: str
) -> None:
    assert next_fire(expression, at(after)) == at(expected)


def test_cron_is_evaluated_in_the_schedule_timezone() -> None:
    # 17:30 in New York (EST, UTC-5) is 22:30 UTC
    fired = next_fire("cron(30 17 ? * MON-FRI *)", at("2026-11-27T12:00:00"), "America/New_York")
    assert fired.astimezone(UTC) == at("2026-11-27T22:30:00")


def test_bad_expressions_are_rejected() -> None:
    with pytest.raises(ValueError, match="6 fields"):
        next_fire("cron(* * * *)", at("2026-11-27T00:00:00"))
    with pytest.raises(ValueError, match="unsupported"):
        next_fire("every tuesday", at("2026-11-27T00:00:00"))


def test_fire_starts_the_target_and_survives_its_failure() -> None:
    started: list[str] = []

    def start() -> None:
        started.append("m")
        if len(started) == 2:
            raise RuntimeError("endpoint down")

    job = Job(name="daily", expression="rate(1 day)", run=start)
    scheduler = Scheduler((job,))
    scheduler.fire(job, at("2026-11-27T00:00:00"))
    scheduler.fire(job, at("2026-11-28T00:00:00"))
    assert started == ["m", "m"]
    assert len(scheduler.fired) == 2


def test_a_fixed_interval_fires_its_job_at_that_pace() -> None:
    fired = threading.Event()
    daily = threading.Event()
    jobs = (
        Job("sweep", "rate(5 minutes)", fired.set, every_s=0.05),
        Job("daily", "rate(1 day)", daily.set),
    )
    scheduler = Scheduler(jobs)
    scheduler.start()
    try:
        assert fired.wait(2), "a 50 ms interval never fired the 5-minute job"
    finally:
        scheduler.stop()
    assert not daily.is_set()  # the other jobs keep their own expression
