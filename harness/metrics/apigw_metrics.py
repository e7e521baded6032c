"""The ``AWS/ApiGateway`` points of one answered request, as API Gateway emits them; pure.

REST APIs: Count, 4XXError, 5XXError, Latency, IntegrationLatency by ``ApiName`` and by
``ApiName`` + ``Stage``: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
HTTP APIs: Count, 4xx, 5xx, Latency, IntegrationLatency by ``ApiId`` and ``ApiId`` + ``Stage``:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
"""

from __future__ import annotations

from harness.apigw.gateway import ApiCall
from harness.metrics.lambda_metrics import Point
from harness.metrics.store import Series

NAMESPACE = "AWS/ApiGateway"


def api_series(call: ApiCall) -> list[Series]:
    """The series one answered request adds a point to."""
    if call.kind == "rest":
        api = ("ApiName", call.api_name)
        client, server = "4XXError", "5XXError"
    else:
        api = ("ApiId", call.api_id)
        client, server = "4xx", "5xx"
    series: list[Series] = []
    for dims in ((api,), (api, ("Stage", call.stage))):
        series += [("Count", dims, "Count"), (client, dims, "Count"), (server, dims, "Count"),
                   ("Latency", dims, "Milliseconds")]
        if call.integration_latency_ms is not None:
            series.append(("IntegrationLatency", dims, "Milliseconds"))
    return series


def series_key(call: ApiCall) -> tuple[object, ...]:
    """What ``api_series`` depends on: calls with equal keys add to the same series."""
    return (call.account_id, call.region, call.kind, call.api_name, call.api_id, call.stage,
            call.integration_latency_ms is None)


def api_values(series: list[Series], call: ApiCall) -> list[float]:
    """The request's values for ``series`` (``api_series(call)``), in its order."""
    client = 1 if 400 <= call.status < 500 else 0
    by_name = {"Count": 1, "4XXError": client, "4xx": client,
               "5XXError": 1 if call.status >= 500 else 0, "5xx": 1 if call.status >= 500 else 0,
               "Latency": round(call.latency_ms, 3),
               "IntegrationLatency": round(call.integration_latency_ms or 0.0, 3)}
    return [by_name[name] for name, _, _ in series]


def api_points(call: ApiCall) -> list[Point]:
    series = api_series(call)
    return [Point(name, value, unit, dims)
            for (name, dims, unit), value in zip(series, api_values(series, call))]
