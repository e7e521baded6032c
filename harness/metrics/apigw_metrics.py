"""The ``AWS/ApiGateway`` points of one answered request, as API Gateway emits them; pure.

REST APIs: Count, 4XXError, 5XXError, Latency, IntegrationLatency by ``ApiName`` and by
``ApiName`` + ``Stage``: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
HTTP APIs: Count, 4xx, 5xx, Latency, IntegrationLatency by ``ApiId`` and ``ApiId`` + ``Stage``:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
"""

from __future__ import annotations

from harness.apigw.gateway import ApiCall
from harness.metrics.lambda_metrics import Point

NAMESPACE = "AWS/ApiGateway"


def api_points(call: ApiCall) -> list[Point]:
    if call.kind == "rest":
        api = ("ApiName", call.api_name)
        client, server = "4XXError", "5XXError"
    else:
        api = ("ApiId", call.api_id)
        client, server = "4xx", "5xx"
    points = []
    for dims in ((api,), (api, ("Stage", call.stage))):
        points += [Point("Count", 1, "Count", dims),
                   Point(client, 1 if 400 <= call.status < 500 else 0, "Count", dims),
                   Point(server, 1 if call.status >= 500 else 0, "Count", dims),
                   Point("Latency", round(call.latency_ms, 3), "Milliseconds", dims)]
        if call.integration_latency_ms is not None:
            points.append(Point("IntegrationLatency", round(call.integration_latency_ms, 3),
                                "Milliseconds", dims))
    return points
