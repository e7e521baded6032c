"""What CloudWatch says about a load run: the ``AWS/Lambda`` and ``AWS/ApiGateway`` metrics of the
run's function and API, read back with GetMetricStatistics from the endpoint the run targeted,
for the report to set beside the client's own figures.

CloudWatch aggregates by the minute, so the window is the whole minutes the run overlapped:
traffic the function or API served in those minutes outside the run is counted too, as it is
on AWS. Standard statistics only (GetMetricStatistics' Sum, SampleCount, Average, Maximum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PERIOD_S = 60


@dataclass(frozen=True)
class Query:
    key: str
    """Where the figure goes in the report."""
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str


def window(started: float, ended: float) -> tuple[float, float]:
    """The whole minutes [start, end) that the run [started, ended] overlapped."""
    start = math.floor(started / PERIOD_S) * PERIOD_S
    end = max(start + PERIOD_S, math.ceil(ended / PERIOD_S) * PERIOD_S)
    return float(start), float(end)


def queries(function_name: str, api_name: str, stage: str) -> list[Query]:
    """The figures read back: the function's by ``FunctionName``, the REST API's by ``ApiName``
    and ``Stage``, each under the exact dimension set Lambda and API Gateway emit it with."""
    fn = (("FunctionName", function_name),)
    api = (("ApiName", api_name), ("Stage", stage))
    lam, gw = "AWS/Lambda", "AWS/ApiGateway"
    return [
        Query("invocations", lam, "Invocations", fn, "Sum"),
        Query("errors", lam, "Errors", fn, "Sum"),
        Query("throttles", lam, "Throttles", fn, "Sum"),
        Query("duration_samples", lam, "Duration", fn, "SampleCount"),
        Query("duration_avg_ms", lam, "Duration", fn, "Average"),
        Query("duration_max_ms", lam, "Duration", fn, "Maximum"),
        Query("concurrent_max", lam, "ConcurrentExecutions", fn, "Maximum"),
        Query("api_count", gw, "Count", api, "Sum"),
        Query("api_4xx", gw, "4XXError", api, "Sum"),
        Query("api_5xx", gw, "5XXError", api, "Sum"),
        Query("latency_avg_ms", gw, "Latency", api, "Average"),
        Query("latency_max_ms", gw, "Latency", api, "Maximum"),
        Query("integration_latency_avg_ms", gw, "IntegrationLatency", api, "Average"),
    ]


def combine(query: Query, datapoints: list[dict[str, Any]]) -> float | None:
    """One figure for the window from its per-period datapoints (None: no data)."""
    values = [float(p[query.statistic]) for p in datapoints if query.statistic in p]
    if not values:
        return None
    if query.statistic in ("Sum", "SampleCount"):
        return sum(values)
    if query.statistic == "Maximum":
        return max(values)
    weights = [float(p.get("SampleCount", 1)) for p in datapoints if query.statistic in p]
    return sum(v * w for v, w in zip(values, weights, strict=True)) / max(sum(weights), 1e-9)


def read(cloudwatch: Any, function_name: str, api_name: str, stage: str, started: float,
         ended: float) -> dict[str, Any]:
    """The CloudWatch side of a run, from ``cloudwatch`` (a boto3 client in the stack's region)."""
    start, end = window(started, ended)
    figures: dict[str, float | None] = {}
    for query in queries(function_name, api_name, stage):
        statistics = [query.statistic]
        if query.statistic == "Average":
            statistics.append("SampleCount")  # to weigh the minutes' averages
        answer = cloudwatch.get_metric_statistics(
            Namespace=query.namespace, MetricName=query.metric,
            Dimensions=[{"Name": n, "Value": v} for n, v in query.dimensions],
            StartTime=datetime.fromtimestamp(start, UTC), EndTime=datetime.fromtimestamp(end, UTC),
            Period=PERIOD_S, Statistics=statistics)
        figures[query.key] = combine(query, answer.get("Datapoints", []))
    return {"available": True, "window": {"start": start, "end": end, "period_s": PERIOD_S},
            "function_name": function_name, "api_name": api_name, "stage": stage,
            "figures": figures}


def unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


def rows(side: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The report's CloudWatch lines (pure)."""
    if side is None:
        return []
    if not side.get("available"):
        return [("CloudWatch", f"not read: {side.get('reason', '')}")]
    f = side["figures"]

    def n(key: str) -> str:
        return "no data" if f.get(key) is None else f"{f[key]:,.0f}"

    def ms(key: str) -> str:
        return "n/a" if f.get(key) is None else f"{f[key]:,.2f} ms"

    minutes = (side["window"]["end"] - side["window"]["start"]) / side["window"]["period_s"]
    return [
        ("CloudWatch Lambda", f"Invocations {n('invocations')}  Errors {n('errors')}  "
                              f"Throttles {n('throttles')}  Duration avg {ms('duration_avg_ms')} "
                              f"max {ms('duration_max_ms')} (SampleCount "
                              f"{n('duration_samples')})  ConcurrentExecutions max "
                              f"{n('concurrent_max')}"),
        ("CloudWatch API", f"Count {n('api_count')}  4XXError {n('api_4xx')}  5XXError "
                           f"{n('api_5xx')}  Latency avg {ms('latency_avg_ms')} max "
                           f"{ms('latency_max_ms')}  IntegrationLatency avg "
                           f"{ms('integration_latency_avg_ms')}  ({minutes:.0f} min window, "
                           f"{side['function_name']} / {side['api_name']} {side['stage']})"),
    ]
