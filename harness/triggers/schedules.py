"""Scheduled rules fire on the harness's clock: one clock timer per enabled rule with a
``ScheduleExpression``, re-armed after each occurrence; disabling, deleting or re-scheduling the
rule cancels it. No thread sleeps per rule: the clock's one scheduler thread runs the timers.

When a test advances the clock past several occurrences, every due occurrence fires, in order,
each with its own time (a ``rate(5 minutes)`` rule advanced 16 minutes fires three times), as
a test expects; past ``MAX_CATCH_UP`` overdue occurrences in a row the rest are skipped, with a
warning, so advancing a year does not queue half a million invocations.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.aws_state.events_rules import RuleView
from harness.clock import Clock, Timer
from harness.errors import AwsError
from harness.triggers.schedule_expressions import Schedule, parse_schedule

log = logging.getLogger("harness.triggers")

RuleKey = tuple[str, str, str, str]  # account, region, bus, name
MAX_CATCH_UP = 1440  # a day of a per-minute schedule
LATE_S = 1.0  # an occurrence fired this long after its time was caught up, not on time


@dataclass
class _Armed:
    """A scheduled rule being timed."""

    key: RuleKey
    arn: str
    expression: str
    schedule: Schedule
    anchor: float  # when the schedule started: a rate counts its periods from here
    timer: Timer | None = None
    late: int = 0  # overdue occurrences fired in a row


class Schedules:
    """Times the scheduled rules; ``fire(rule, when)`` delivers one occurrence (quickly: it runs
    on the clock's thread)."""

    def __init__(self, clock: Clock, lookup: Callable[[str, str, str, str], RuleView | None],
                 fire: Callable[[RuleView, float], None]) -> None:
        self._clock = clock
        self._lookup = lookup
        self._fire = fire
        self._armed: dict[RuleKey, _Armed] = {}
        self._lock = threading.Lock()
        self._closed = False

    def timer_name(self, rule_arn: str) -> str:
        """The name of a rule's clock timer (``Clock.pending()`` shows it)."""
        return f"schedule {rule_arn}"

    def rescan(self, rules: Iterable[RuleView]) -> None:
        """Time every scheduled rule among ``rules`` (those made before the harness started)."""
        for rule in rules:
            self._update(rule.key, rule)

    def rule_changed(self, account: str, region: str, bus: str, name: str) -> None:
        """A rule was put, enabled, disabled or deleted: time it again, or stop."""
        self._update((account, region, bus, name), self._lookup(account, region, bus, name))

    def _update(self, key: RuleKey, rule: RuleView | None) -> None:
        with self._lock:
            if self._closed:
                return
            armed = self._armed.get(key)
            wanted = rule.schedule if rule is not None and rule.enabled else None
            if armed is not None and armed.expression == wanted:
                return  # still on: keep its phase (PutTargets, a repeated PutRule)
            if armed is not None:
                self._drop(armed)
            if rule is None or not wanted:
                return
            try:
                schedule = parse_schedule(wanted)
            except AwsError:
                log.warning("rule %s has a schedule the harness cannot read: %s", rule.arn,
                            wanted)
                return
            now = self._clock.now()
            armed = _Armed(key, rule.arn, wanted, schedule, anchor=now)
            self._armed[key] = armed
            self._arm(armed, after=now)

    def _arm(self, armed: _Armed, after: float) -> None:
        """Set the timer of the first occurrence after ``after`` (lock held)."""
        when = armed.schedule.next_after(after, anchor=armed.anchor)
        if when is None:
            log.info("rule %s: %s has no occurrence left", armed.arn, armed.expression)
            self._armed.pop(armed.key, None)
            return
        armed.timer = self._clock.call_at(when, lambda: self._due(armed, when),
                                          name=self.timer_name(armed.arn))

    def _drop(self, armed: _Armed) -> None:
        if armed.timer is not None:
            armed.timer.cancel()
        if self._armed.get(armed.key) is armed:
            del self._armed[armed.key]

    def _due(self, armed: _Armed, when: float) -> None:
        """An occurrence came due (on the clock's thread): fire it, then time the next."""
        with self._lock:
            if self._closed or self._armed.get(armed.key) is not armed:
                return
        rule = self._lookup(*armed.key)  # the rule now: a reset may have taken it away
        if rule is None or not rule.enabled or rule.schedule != armed.expression:
            with self._lock:
                self._drop(armed)
            return
        self._fire(rule, when)  # outside the lock: it reaches moto and the Lambda service
        with self._lock:
            if self._closed or self._armed.get(armed.key) is not armed:
                return
            self._arm(armed, after=self._next_from(armed, when))

    def _next_from(self, armed: _Armed, when: float) -> float:
        """Where to look for the next occurrence: after this one, unless too many overdue
        ones have fired in a row (then after now)."""
        now = self._clock.now()
        armed.late = armed.late + 1 if now - when > LATE_S else 0
        if armed.late < MAX_CATCH_UP:
            return when
        log.warning("rule %s: %d overdue occurrences fired in a row after the clock moved; "
                    "skipping the rest up to now", armed.arn, armed.late)
        armed.late = 0
        return now

    def armed(self) -> list[str]:
        """The ARNs of the rules being timed."""
        with self._lock:
            return sorted(armed.arn for armed in self._armed.values())

    def reset(self) -> None:
        """Forget every schedule (the emulator's reset clears moto's rules too)."""
        with self._lock:
            for armed in list(self._armed.values()):
                self._drop(armed)

    def close(self) -> None:
        """Cancel every timer; nothing is timed afterwards."""
        with self._lock:
            self._closed = True
            for armed in list(self._armed.values()):
                self._drop(armed)
