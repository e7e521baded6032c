"""The ``AWS/Lambda`` points one invocation or throttle makes, as Lambda emits them; pure.

Metrics: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
Each point is emitted under every dimension set CloudWatch aggregates it by: the account (no
dimension), ``FunctionName``, ``FunctionName`` + ``Resource`` (the function, or
``name:version`` for a published version), and, for a published version,
``FunctionName`` + ``Resource`` + ``ExecutedVersion``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.metrics.store import Dimensions

NAMESPACE = "AWS/Lambda"
LATEST = "$LATEST"


@dataclass(frozen=True)
class Point:
    name: str
    value: float
    unit: str
    dimensions: Dimensions


def dimension_sets(function: str, version: str) -> list[Dimensions]:
    resource = function if version == LATEST else f"{function}:{version}"
    sets: list[Dimensions] = [(), (("FunctionName", function),),
                              (("FunctionName", function), ("Resource", resource))]
    if version != LATEST:
        sets.append((("FunctionName", function), ("Resource", resource),
                     ("ExecutedVersion", version)))
    return sets


def invocation_points(function: str, version: str, *, duration_ms: float, error: bool,
                      concurrent: int) -> list[Point]:
    """Invocations, Errors (0 or 1: a success is a zero, so SampleCount counts invocations),
    Duration and ConcurrentExecutions (the executions in flight, this one included)."""
    points = []
    for dims in dimension_sets(function, version):
        points += [Point("Invocations", 1, "Count", dims),
                   Point("Errors", 1 if error else 0, "Count", dims),
                   Point("Duration", round(duration_ms, 3), "Milliseconds", dims)]
        if len(dims) <= 1:
            points.append(Point("ConcurrentExecutions", concurrent, "Count", dims))
    return points


def recursion_points(function: str, version: str, dropped: int) -> list[Point]:
    """Invocations stopped in a recursive loop (RecursiveInvocationsDropped)."""
    return [Point("RecursiveInvocationsDropped", dropped, "Count", dims)
            for dims in dimension_sets(function, version)]


def throttle_points(function: str, version: str) -> list[Point]:
    """A throttled request: counted in Throttles, not in Invocations."""
    return [Point("Throttles", 1, "Count", dims) for dims in dimension_sets(function, version)]


ASYNC_UNITS = {"AsyncEventAge": "Milliseconds"}


def async_points(metric: str, function: str, qualifier: str, value: float) -> list[Point]:
    """An asynchronous-queue metric (AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped,
    DeadLetterErrors, DestinationDeliveryFailures) under the function's dimension sets."""
    version = qualifier if qualifier.isdigit() else LATEST
    unit = ASYNC_UNITS.get(metric, "Count")
    return [Point(metric, value, unit, dims) for dims in dimension_sets(function, version)]
