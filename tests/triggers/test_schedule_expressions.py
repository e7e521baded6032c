"""EventBridge schedule expressions: what is refused, and when the next occurrence falls (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harness.triggers.event_errors import EventsValidationError
from harness.triggers.schedule_expressions import INVALID, parse_schedule


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def next_of(expression: str, after: str, anchor: str | None = None) -> str | None:
    found = parse_schedule(expression).next_after(at(after), anchor=at(anchor or after))
    return None if found is None else datetime.fromtimestamp(found, UTC).strftime(
        "%Y-%m-%d %H:%M:%S %a")


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-5 minutes)",
    "rate(10 seconds)", "rate(2 weeks)", "rate(10 MINUTES)", "rate( 10 minutes )",
    " rate(10 minutes)", "rate(10)", "rate()",
    "cron(0 1 * * * *)",  # both day fields given
    "cron(0 1 ? * ? *)",  # neither
    "cron(0 12 * * ?)",  # five fields
    "cron(60 * * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)",
    "cron(0 0 ? * 8 *)", "cron(0 0 ? JANUARY * *)", "cron(0 0 * * ? 1969)",
    "cron(0 0 ? * 2#6 *)", "cron(*/0 * * * ? *)", "cron(0 0 L * L *)", "every hour",
])
def test_invalid_expressions_are_refused_with_aws_message(expression: str) -> None:
    with pytest.raises(EventsValidationError) as refused:
        parse_schedule(expression)
    assert refused.value.message == INVALID == "Parameter ScheduleExpression is not valid."


def test_rate_counts_periods_from_its_anchor() -> None:
    assert next_of("rate(5 minutes)", "2026-03-01 10:00:30") == "2026-03-01 10:05:30 Sun"
    assert next_of("rate(5 minutes)", "2026-03-01 10:05:30", anchor="2026-03-01 10:00:30") \
        == "2026-03-01 10:10:30 Sun"
    assert next_of("rate(1 hour)", "2026-03-01 10:00:00") == "2026-03-01 11:00:00 Sun"
    assert next_of("rate(2 days)", "2026-03-01 10:00:00") == "2026-03-03 10:00:00 Tue"


@pytest.mark.parametrize(("expression", "after", "expected"), [
    ("cron(0 12 * * ? *)", "2026-03-01 12:00:00", "2026-03-02 12:00:00 Mon"),
    ("cron(5,35 14 * * ? *)", "2026-03-01 14:05:00", "2026-03-01 14:35:00 Sun"),
    ("cron(0/15 * * * ? *)", "2026-03-01 10:07:00", "2026-03-01 10:15:00 Sun"),
    ("cron(0 18 ? * MON-FRI *)", "2026-03-06 18:00:00", "2026-03-09 18:00:00 Mon"),
    ("cron(0 8 1 * ? *)", "2026-03-01 09:00:00", "2026-04-01 08:00:00 Wed"),
    ("cron(0 9 L * ? *)", "2026-02-01 00:00:00", "2026-02-28 09:00:00 Sat"),
    ("cron(0 9 LW * ? *)", "2026-02-01 00:00:00", "2026-02-27 09:00:00 Fri"),
    ("cron(0 9 1W * ? *)", "2026-08-01 00:00:00", "2026-08-03 09:00:00 Mon"),  # 1st is Sat
    ("cron(0 9 15W * ? *)", "2026-03-01 00:00:00", "2026-03-16 09:00:00 Mon"),  # 15th is Sun
    ("cron(0 9 ? * 6L *)", "2026-03-01 00:00:00", "2026-03-27 09:00:00 Fri"),
    ("cron(0 9 ? * 2#1 *)", "2026-03-01 00:00:00", "2026-03-02 09:00:00 Mon"),
    ("cron(0 2 ? * SAT#3 *)", "2026-03-01 00:00:00", "2026-03-21 02:00:00 Sat"),
    ("cron(0 9 ? * L *)", "2026-03-01 00:00:00", "2026-03-07 09:00:00 Sat"),
    ("cron(30 23 ? * FRI-MON *)", "2026-03-03 00:00:00", "2026-03-06 23:30:00 Fri"),
    ("cron(0 0 29 FEB ? *)", "2026-03-01 00:00:00", "2028-02-29 00:00:00 Tue"),
    ("cron(0/5 5 ? JAN 1-5 2022)", "2026-03-01 00:00:00", None),  # its years are over
])
def test_cron_next_occurrence(expression: str, after: str, expected: str | None) -> None:
    assert next_of(expression, after) == expected


def test_cron_steps_minute_by_minute_in_order() -> None:
    schedule = parse_schedule("cron(* 10 ? * SUN *)")
    when, seen = at("2026-03-01 10:57:10"), []
    for _ in range(4):
        found = schedule.next_after(when, anchor=0.0)
        assert found is not None
        when = found
        seen.append(datetime.fromtimestamp(when, UTC).strftime("%m-%d %H:%M"))
    assert seen == ["03-01 10:58", "03-01 10:59", "03-08 10:00", "03-08 10:01"]
