"""AWS cron's day wildcards (``L``, ``W``, ``#``) fire when EventBridge fires them; a token
outside AWS cron is refused naming it (the API's 400 adds ``trigger.schedule``)."""

from __future__ import annotations

import datetime as dt

import pytest

from quantdesk.schedule_expressions import next_fire


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # L in day-of-month: the month's last day (February 2027 has 28)
        ("cron(0 9 L * ? *)", "2027-02-01T00:00:00", "2027-02-28T09:00:00"),
        ("cron(0 9 L * ? *)", "2027-02-28T09:00:00", "2027-03-31T09:00:00"),
        # <n>W: the weekday nearest the 15th (Sat 2026-08-15 -> Fri 14th; Sun 2026-11-15 ->
        # Mon 16th); 1W on Saturday 2026-08-01 stays in the month: Monday the 3rd
        ("cron(0 9 15W * ? *)", "2026-08-01T00:00:00", "2026-08-14T09:00:00"),
        ("cron(0 9 15W * ? *)", "2026-11-01T00:00:00", "2026-11-16T09:00:00"),
        ("cron(0 9 1W * ? *)", "2026-07-31T12:00:00", "2026-08-03T09:00:00"),
        # <d>#<k>: the second Tuesday (3) of December 2026 is the 8th
        ("cron(0 9 ? * 3#2 *)", "2026-12-01T00:00:00", "2026-12-08T09:00:00"),
        ("cron(0 9 ? * TUE#2 *)", "2026-12-08T09:00:00", "2027-01-12T09:00:00"),
        # <d>L: the month's last Friday (6); L alone: Saturdays
        ("cron(0 9 ? * 6L *)", "2026-12-01T00:00:00", "2026-12-25T09:00:00"),
        ("cron(0 9 ? * L *)", "2026-12-01T00:00:00", "2026-12-05T09:00:00"),
        # names still work beside them (WED has a W)
        ("cron(0 9 ? * WED *)", "2026-12-01T00:00:00", "2026-12-02T09:00:00"),
    ],
)
def test_day_wildcards_fire_as_aws_cron_does(expression: str, after: str, expected: str) -> None:
    assert next_fire(expression, at(after)) == at(expected)


@pytest.mark.parametrize(
    ("expression", "token"),
    [
        ("cron(0 9 LW * ? *)", "'LW'"),
        ("cron(0 9 ? * 3#9 *)", "'3#9'"),
        ("cron(0 9 ? * 2W *)", "'2W'"),
        ("cron(0 9 L-2 * ? *)", "'L-2'"),
        ("cron(x 9 * * ? *)", "'x'"),
        ("cron(0 25 * * ? *)", "'25'"),
    ],
)
def test_other_tokens_are_refused_by_name(expression: str, token: str) -> None:
    with pytest.raises(ValueError, match=token):
        next_fire(expression, at("2026-12-01T00:00:00"))
