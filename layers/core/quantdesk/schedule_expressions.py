"""EventBridge schedule expressions (``rate(...)``, AWS ``cron(...)`` with six fields) evaluated
in a time zone: when one fires next, and how often it fires at most. The local cloud's
scheduler fires by them; the watch API refuses a schedule that fires too often by them."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
RATE_PATTERN = r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)"


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
    rate = re.fullmatch(RATE_PATTERN, expression)
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


#: firings sampled to find a cron's shortest gap (a day of a minute-level cron is covered)
SAMPLED_FIRINGS = 48


def shortest_interval(expression: str, tz: str, start: dt.datetime) -> dt.timedelta:
    """The shortest gap between consecutive firings from ``start`` on (sampled for a cron: its
    fields repeat, so the first firings show its densest stretch within a day)."""
    rate = re.fullmatch(RATE_PATTERN, expression)
    if rate:
        return next_fire(expression, start, tz) - start
    shortest = dt.timedelta.max
    previous = next_fire(expression, start, tz)
    for _ in range(SAMPLED_FIRINGS):
        following = next_fire(expression, previous, tz)
        shortest = min(shortest, following - previous)
        previous = following
    return shortest
