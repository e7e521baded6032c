"""How CloudWatch decides a metric alarm's state from the latest periods of its metric; pure.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
The alarm looks at the last ``EvaluationPeriods`` whole periods; it goes to ALARM when at least
``DatapointsToAlarm`` of them breach the threshold, to OK when fewer do, and
``TreatMissingData`` says what a period without data counts as (``missing``: nothing, and all
missing is INSUFFICIENT_DATA; ``notBreaching``/``breaching``: good or bad; ``ignore``: the state
stays as it is).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.metrics.store import Minute

OPERATORS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, ">="),
    "GreaterThanThreshold": (lambda v, t: v > t, ">"),
    "LessThanThreshold": (lambda v, t: v < t, "<"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "<="),
}
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class AlarmRule:
    """What a metric alarm checks (the fields of PutMetricAlarm that evaluation reads)."""

    statistic: str
    """Sum, Average, Minimum, Maximum, SampleCount, or a percentile such as p99."""
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    operator: str
    treat_missing: str = "missing"


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    """CloudWatch's StateReason sentence."""
    values: tuple[float, ...]
    """The periods' values that were seen, oldest first (the reason data's recentDatapoints)."""


def statistic(minutes: Sequence[Minute], name: str) -> float | None:
    """One statistic over the points of a period; None when it has none."""
    count = sum(m.count for m in minutes)
    if count == 0:
        return None
    if name == "Sum":
        return sum(m.total for m in minutes)
    if name == "SampleCount":
        return float(count)
    if name == "Average":
        return sum(m.total for m in minutes) / count
    if name == "Minimum":
        return min(m.low for m in minutes)
    if name == "Maximum":
        return max(m.high for m in minutes)
    if name.startswith("p"):
        return percentile([v for m in minutes for v in m.values], float(name[1:]))
    raise ValueError(f"unknown statistic {name!r}")


def percentile(values: list[float], rank: float) -> float | None:
    """CloudWatch's percentile: the value at or below which ``rank`` % of the points lie."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def evaluate(rule: AlarmRule, periods: Sequence[float | None], current: str) -> Verdict:
    """The state for the values of the last ``evaluation_periods`` periods (None: no data)."""
    if rule.operator not in OPERATORS:
        raise ValueError(f"unsupported ComparisonOperator {rule.operator!r}")
    breaches, symbol = OPERATORS[rule.operator]
    seen = tuple(v for v in periods if v is not None)
    missing = len(periods) - len(seen)
    breaching = sum(1 for v in seen if breaches(v, rule.threshold))
    if missing and rule.treat_missing == "breaching":
        breaching += missing
    counted = len(seen) + (missing if rule.treat_missing in ("breaching", "notBreaching") else 0)
    if counted == 0:
        if rule.treat_missing == "ignore":
            return Verdict(current, "Threshold Crossed: no datapoints were received; the "
                           "alarm keeps its state (TreatMissingData ignore)", seen)
        return Verdict("INSUFFICIENT_DATA", "Insufficient Data: "
                       f"{len(periods)} datapoints were unknown.", seen)
    shown = ", ".join(f"{v:g}" for v in seen[-5:]) or "none"
    if breaching >= rule.datapoints_to_alarm:
        state = "ALARM"
        how = "greater" if symbol.startswith(">") else "less"
    else:
        state = "OK"
        how = "not " + ("greater" if symbol.startswith(">") else "less")
    equal = " than or equal to" if symbol in (">=", "<=") else " than"
    reason = (f"Threshold Crossed: {breaching} out of the last {len(periods)} datapoints "
              f"[{shown}] was {how}{equal} the threshold ({rule.threshold:g}) "
              f"(minimum {rule.datapoints_to_alarm} datapoint"
              f"{'s' if rule.datapoints_to_alarm != 1 else ''} for "
              f"{'OK -> ALARM' if state == 'ALARM' else 'ALARM -> OK'} transition).")
    return Verdict(state, reason, seen)
