"""A load replay's projected month, published to the endpoint's CloudWatch (``Harness/Billing``
``ProjectedMonthlyCharges`` and ``ProjectedFreeTierPercent``, us-east-1 as AWS's billing
metrics), so an alarm at the free-tier boundary can be tested against a replay."""

from __future__ import annotations

from typing import Any

from harness.deploy import Target
from harness.metrics import billing


def publish_projection(endpoint_url: str, report: dict[str, Any]) -> int:
    """PutMetricData the projection in ``report`` (its ``cost`` block); returns points sent."""
    cost = report["cost"]
    points = billing.projection_points(float(cost["projected_monthly_usd"]),
                                       dict(cost["free_tier_share"]))
    cloudwatch = Target(endpoint_url=endpoint_url).client("cloudwatch", billing.BILLING_REGION)
    cloudwatch.put_metric_data(Namespace=billing.PROJECTION_NAMESPACE, MetricData=[
        {"MetricName": p.name, "Value": p.value, "Unit": p.unit,
         "Dimensions": [{"Name": n, "Value": v} for n, v in p.dimensions]} for p in points])
    return len(points)
