"""The ``AWS/Lambda`` points one invocation or throttle makes, as Lambda emits them; pure.

Metrics: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
Each point is emitted under every dimension set CloudWatch aggregates it by: the account (no
dimension), ``FunctionName``, ``FunctionName`` + ``Resource`` (the function, or
``name:version`` for a published version), and, for a published version,
``FunctionName`` + ``Resource`` + ``ExecutedVersion``.
"""

from __future__ import annotations

from typing import NamedTuple

from harness.metrics.store import Dimensions, Series

NAMESPACE = "AWS/Lambda"
LATEST = "$LATEST"


class Point(NamedTuple):
    """One value of one metric under one dimension set (a tuple: a dozen per invocation)."""

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


def invocation_series(function: str, version: str) -> list[Series]:
    """The series one invocation adds a point to: Invocations, Errors and Duration under
    every dimension set, ConcurrentExecutions under the account's and the function's."""
    series: list[Series] = []
    for dims in dimension_sets(function, version):
        series += [("Invocations", dims, "Count"), ("Errors", dims, "Count"),
                   ("Duration", dims, "Milliseconds")]
        if len(dims) <= 1:
            series.append(("ConcurrentExecutions", dims, "Count"))
    return series


def invocation_values(series: list[Series], *, duration_ms: float, error: bool,
                      concurrent: int) -> list[float]:
    """One invocation's values for ``series`` (``invocation_series``), in its order: Errors is
    0 or 1 (a success is a zero, so SampleCount counts invocations), ConcurrentExecutions the
    executions in flight, this one included."""
    by_name = {"Invocations": 1, "Errors": 1 if error else 0,
               "Duration": round(duration_ms, 3), "ConcurrentExecutions": concurrent}
    return [by_name[name] for name, _, _ in series]


def invocation_points(function: str, version: str, *, duration_ms: float, error: bool,
                      concurrent: int) -> list[Point]:
    """Invocations, Errors, Duration and ConcurrentExecutions of one invocation."""
    series = invocation_series(function, version)
    values = invocation_values(series, duration_ms=duration_ms, error=error,
                               concurrent=concurrent)
    return [Point(name, value, unit, dims) for (name, dims, unit), value in zip(series, values)]


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
