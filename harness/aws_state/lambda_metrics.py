"""Lambda's own CloudWatch metrics (namespace AWS/Lambda), written into moto's CloudWatch so
GetMetricStatistics, GetMetricData and ListMetrics report them."""

from __future__ import annotations

from moto.cloudwatch.models import cloudwatch_backends

NAMESPACE = "AWS/Lambda"


def put_function_metric(account_id: str, region: str, function_name: str, metric: str,
                        value: float = 1.0) -> None:
    """One datum of ``metric`` for the function, stamped now (moto's naive UTC: one aware
    timestamp would break every GetMetricData of the region)."""
    cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, [{
        "MetricName": metric, "Value": value, "Unit": "Count",
        "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
    }])
