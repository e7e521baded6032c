"""EventBridge schedule expressions, parsed and stepped in UTC: ``rate(value unit)`` and AWS's
six-field ``cron(minutes hours day-of-month month day-of-week year)``. Pure functions.

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
cron fields take ``, - * /``; day-of-month also ``? L W`` (``L``, ``LW``, ``15W``); day-of-week
(1-7 or SUN-SAT, 1 is Sunday) also ``? L #`` (``L`` is Saturday, ``6L`` the month's last
Friday, ``2#1`` its first Monday); one of the two day fields must be ``?``. A rate's first
occurrence is one period after its anchor (the rule's creation), as on AWS.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from harness.triggers.event_errors import EventsValidationError

INVALID = "Parameter ScheduleExpression is not valid."
_RATE = re.compile(r"rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
# (low, high, names) of minutes, hours, day-of-month, month, day-of-week, year
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (1, 7, _DAYS), (1970, 2199, {}))


@dataclass(frozen=True)
class Rate:
    """``rate(N unit)``: every ``seconds``, counted from the anchor."""

    expression: str
    seconds: int

    def next_after(self, after: float, anchor: float) -> float | None:
        """The first occurrence strictly after ``after`` (epoch seconds)."""
        if after < anchor:
            return anchor + self.seconds
        # the epsilon keeps an occurrence computed from this very formula from counting twice
        periods = int((after - anchor) / self.seconds + 1e-6)
        return anchor + self.seconds * (periods + 1)


@dataclass(frozen=True)
class DaySpec:
    """Day-of-month or day-of-week: plain values, or one of AWS's special forms."""

    values: frozenset[int] = frozenset()
    last: bool = False                 # L (day-of-month)
    last_weekday: bool = False         # LW
    nearest_weekday: int | None = None  # 15W
    last_of_week_day: int | None = None  # 6L: the month's last Friday
    nth: tuple[int, int] | None = None   # 2#1: (Monday, first)


@dataclass(frozen=True)
class Cron:
    """``cron(...)``: the minutes that match every field, in UTC."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    day_of_month: DaySpec | None  # exactly one of the two day fields is set ("?" is the other)
    day_of_week: DaySpec | None

    def next_after(self, after: float, anchor: float = 0.0) -> float | None:
        """The first matching minute strictly after ``after`` (epoch seconds); None if the
        expression's years are over."""
        start = (datetime.fromtimestamp(after, UTC).replace(second=0, microsecond=0)
                 + timedelta(minutes=1))
        for year in (y for y in self.years if y >= start.year):
            for month in self.months:
                if (year, month) < (start.year, start.month):
                    continue
                found = self._in_month(year, month, start)
                if found is not None:
                    return found.timestamp()
        return None

    def _in_month(self, year: int, month: int, start: datetime) -> datetime | None:
        for day in self.days(year, month):
            if (year, month, day) < (start.year, start.month, start.day):
                continue
            for hour in self.hours:
                for minute in self.minutes:
                    candidate = datetime(year, month, day, hour, minute, tzinfo=UTC)
                    if candidate >= start:
                        return candidate
        return None

    def days(self, year: int, month: int) -> list[int]:
        """The days of that month the day fields select, in order."""
        length = calendar.monthrange(year, month)[1]
        if self.day_of_month is not None:
            return _month_days(self.day_of_month, year, month, length)
        assert self.day_of_week is not None
        return _week_days(self.day_of_week, year, month, length)


Schedule = Rate | Cron


def parse_schedule(expression: str) -> Schedule:
    """A ScheduleExpression; ``EventsValidationError`` with AWS's message when not valid."""
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) == unit.endswith("s"):  # "1 minute", "5 minutes"
            raise EventsValidationError(INVALID)
        return Rate(expression, value * _UNIT_SECONDS[unit.rstrip("s")])
    cron = _CRON.fullmatch(expression)
    if cron is None:
        raise EventsValidationError(INVALID)
    try:
        return _parse_cron(expression, cron.group(1).split())
    except ValueError:
        raise EventsValidationError(INVALID) from None


def _parse_cron(expression: str, fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ValueError("six fields")
    minutes, hours, dom, months, dow, years = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week is ?")
    return Cron(expression, minutes=_values(minutes, 0), hours=_values(hours, 1),
                months=_values(months, 3), years=_values(years, 5),
                day_of_month=None if dom == "?" else _day_of_month(dom),
                day_of_week=None if dow == "?" else _day_of_week(dow))


def _values(field: str, index: int) -> tuple[int, ...]:
    """A field of plain values: ``*``, ``a``, ``a-b``, with ``/step``, comma-separated."""
    low, high, names = _FIELDS[index]
    found: set[int] = set()
    for item in field.split(","):
        found.update(_item(item, low, high, names, wraps=index != 5))
    return tuple(sorted(found))


def _item(item: str, low: int, high: int, names: dict[str, int], wraps: bool) -> list[int]:
    span, _, step_text = item.partition("/")
    step = _number(step_text, 1, high - low + 1, {}) if step_text else 1
    if span == "*":
        first, last = low, high
    elif "-" in span:
        start, _, end = span.partition("-")
        first, last = _number(start, low, high, names), _number(end, low, high, names)
    else:
        first = _number(span, low, high, names)
        last = high if step_text else first  # "0/5": from 0 every 5
    if first <= last:
        return list(range(first, last + 1, step))
    if not wraps:
        raise ValueError(f"range {span} runs backwards")
    return (list(range(first, high + 1)) + list(range(low, last + 1)))[::step]


def _number(text: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(text.upper()) if names else None
    if value is None:
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a number")
        value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _day_of_month(field: str) -> DaySpec:
    if field == "L":
        return DaySpec(last=True)
    if field == "LW":
        return DaySpec(last_weekday=True)
    if field.endswith("W"):
        return DaySpec(nearest_weekday=_number(field[:-1], 1, 31, {}))
    return DaySpec(values=frozenset(_values(field, 2)))


def _day_of_week(field: str) -> DaySpec:
    if field == "L":
        return DaySpec(values=frozenset({7}))  # the week's last day: Saturday
    if field.endswith("L"):
        return DaySpec(last_of_week_day=_number(field[:-1], 1, 7, _DAYS))
    if "#" in field:
        day, _, nth = field.partition("#")
        return DaySpec(nth=(_number(day, 1, 7, _DAYS), _number(nth, 1, 5, {})))
    return DaySpec(values=frozenset(_values(field, 4)))


def _aws_weekday(year: int, month: int, day: int) -> int:
    """1 (Sunday) .. 7 (Saturday), as cron's day-of-week counts."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _month_days(spec: DaySpec, year: int, month: int, length: int) -> list[int]:
    if spec.last:
        return [length]
    if spec.last_weekday:
        weekday = calendar.weekday(year, month, length)  # Monday 0 .. Sunday 6
        return [length - max(0, weekday - 4)]
    if spec.nearest_weekday is not None:
        day = spec.nearest_weekday
        if day > length:
            return []
        weekday = calendar.weekday(year, month, day)
        if weekday == 5:  # Saturday: the Friday before, unless that leaves the month
            return [day - 1 if day > 1 else day + 2]
        if weekday == 6:  # Sunday: the Monday after, unless that leaves the month
            return [day + 1 if day < length else day - 2]
        return [day]
    return [day for day in sorted(spec.values) if day <= length]


def _week_days(spec: DaySpec, year: int, month: int, length: int) -> list[int]:
    weekdays = {day: _aws_weekday(year, month, day) for day in range(1, length + 1)}
    if spec.last_of_week_day is not None:
        return [max(d for d, w in weekdays.items() if w == spec.last_of_week_day)]
    if spec.nth is not None:
        wanted, nth = spec.nth
        matching = [d for d, w in weekdays.items() if w == wanted]
        return [matching[nth - 1]] if nth <= len(matching) else []
    return [d for d, w in weekdays.items() if w in spec.values]
