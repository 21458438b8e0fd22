"""EventBridge schedule expressions (``rate(...)``, AWS ``cron(...)`` with six fields, including
the day fields' ``L``, ``W`` and ``#``) evaluated in a time zone: when one fires next, and how
often it fires at most. The local cloud's scheduler fires by them; the watch API refuses a
schedule that fires too often by them."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
RATE_PATTERN = r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)"


def _number(text: str, low: int, high: int, names: dict[str, int], *, item: str, what: str) -> int:
    if text in names:
        return names[text]
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"unsupported token {item!r} in the {what} field")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{item!r} is outside {low}-{high} in the {what} field")
    return value


def _expand(field: str, low: int, high: int, names: dict[str, int], what: str) -> set[int] | None:
    """AWS cron field -> allowed values (None = any)."""
    if field in ("*", "?"):
        return None
    values: set[int] = set()
    for item in field.split(","):
        part, _, step_text = item.partition("/")
        step = _number(step_text, 1, high, {}, item=item, what=what) if step_text else 1
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            start = _number(a, low, high, names, item=item, what=what)
            end = _number(b, low, high, names, item=item, what=what)
        else:
            start = _number(part, low, high, names, item=item, what=what)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


DayCheck = Callable[[dt.date], bool]


def _last_day(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _aws_weekday(day: dt.date) -> int:
    return day.isoweekday() % 7 + 1  # AWS: 1 = Sunday


def _nearest_weekday(day: dt.date, wanted: int) -> int:
    """``<n>W``: the weekday (Mon-Fri) nearest day ``n`` of ``day``'s month, in that month."""
    last = _last_day(day)
    target = day.replace(day=min(wanted, last))
    if target.isoweekday() == 6:  # Saturday: the Friday before, or Monday when on the 1st
        return target.day - 1 if target.day > 1 else target.day + 2
    if target.isoweekday() == 7:  # Sunday: the Monday after, or Friday when on the last
        return target.day + 1 if target.day < last else target.day - 2
    return target.day


def _on_nearest_weekday(wanted: int) -> DayCheck:
    return lambda day: day.day == _nearest_weekday(day, wanted)


def _on_nth_weekday(weekday: int, k: int) -> DayCheck:
    return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == k


def _on_last_weekday(weekday: int, *, every_week: bool) -> DayCheck:
    """``L`` alone: the week's last day (Saturday) each week; ``<d>L``: the month's last ``d``."""
    return lambda day: _aws_weekday(day) == weekday and (every_week or day.day + 7 > _last_day(day))


def _any_of(checks: list[DayCheck]) -> DayCheck:
    return lambda day: any(check(day) for check in checks)


def _days_of_month(field: str) -> DayCheck | None:
    """The day-of-month field, with AWS's ``L`` (last day) and ``<n>W`` (nearest weekday)."""
    if field in ("*", "?"):
        return None
    checks: list[DayCheck] = []
    plain: list[str] = []
    for item in field.split(","):
        nearest = re.fullmatch(r"([0-9]{1,2})W", item)
        if item == "L":
            checks.append(lambda day: day.day == _last_day(day))
        elif nearest:
            wanted = _number(nearest.group(1), 1, 31, {}, item=item, what="day-of-month")
            checks.append(_on_nearest_weekday(wanted))
        else:
            plain.append(item)
    if plain:
        values = _expand(",".join(plain), 1, 31, {}, "day-of-month") or set()
        checks.append(lambda day: day.day in values)
    return _any_of(checks)


def _days_of_week(field: str) -> DayCheck | None:
    """The day-of-week field (1 = SUN), with AWS's ``L`` (the last day of the week), ``<d>L``
    (the month's last such weekday) and ``<d>#<k>`` (its k-th such weekday)."""
    if field in ("*", "?"):
        return None
    checks: list[DayCheck] = []
    plain: list[str] = []
    for item in field.split(","):
        nth = re.fullmatch(r"([0-9A-Z]+)#([0-9]+)", item)
        last = re.fullmatch(r"([0-9A-Z]+)?L", item)
        if nth:
            weekday = _number(nth.group(1), 1, 7, _DAY_NAMES, item=item, what="day-of-week")
            k = _number(nth.group(2), 1, 5, {}, item=item, what="day-of-week")
            checks.append(_on_nth_weekday(weekday, k))
        elif last:
            weekday = _number(last.group(1) or "7", 1, 7, _DAY_NAMES, item=item, what="day-of-week")
            alone = last.group(1) is None
            checks.append(_on_last_weekday(weekday, every_week=alone))
        else:
            plain.append(item)
    if plain:
        values = _expand(",".join(plain), 1, 7, _DAY_NAMES, "day-of-week") or set()
        checks.append(lambda day: _aws_weekday(day) in values)
    return _any_of(checks)


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
        _expand(minutes, 0, 59, {}, "minutes"),
        _expand(hours, 0, 23, {}, "hours"),
        _expand(months, 1, 12, _MONTH_NAMES, "month"),
        _expand(years, 1970, 2199, {}, "year"),
    )
    day_checks = [c for c in (_days_of_month(dom), _days_of_week(dow)) if c is not None]
    zone = ZoneInfo(tz)
    candidate = after.astimezone(zone).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for _ in range(60 * 24 * 366):
        checks = (candidate.minute, candidate.hour, candidate.month, candidate.year)
        if all(a is None or v in a for a, v in zip(allowed, checks, strict=True)) and all(
            check(candidate.date()) for check in day_checks
        ):
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
