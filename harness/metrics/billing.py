"""Usage and cost as CloudWatch shows them: what the emulator served this month, billed with the
free tier, published as ``AWS/Billing`` ``EstimatedCharges`` (us-east-1, as AWS publishes it)
and as the share of each free-tier allowance used (``Harness/FreeTier`` ``UsedPercent``).

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitor_estimated_charges_with_cloudwatch.html
EstimatedCharges is the month's running total, by ``Currency`` and by ``ServiceName`` +
``Currency``.
"""

from __future__ import annotations

import threading
from dataclasses import asdict

from harness.load.cost import FREE_TIER, Usage, bill, free_tier_share, gb_seconds
from harness.metrics.lambda_metrics import Point

BILLING_REGION = "us-east-1"
BILLING_NAMESPACE = "AWS/Billing"
FREE_TIER_NAMESPACE = "Harness/FreeTier"
PROJECTION_NAMESPACE = "Harness/Billing"
SERVICES = {"lambda": "AWSLambda", "API Gateway": "AmazonApiGateway", "S3": "AmazonS3"}


class UsageMeter:
    """Counts what AWS would bill; thread-safe, O(1) per event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()

    def invocation(self, billed_duration_ms: float, memory_mb: int) -> None:
        add = Usage(lambda_requests=1, gb_seconds=gb_seconds(billed_duration_ms, memory_mb))
        with self._lock:
            self._usage = self._usage + add

    def api_request(self) -> None:
        with self._lock:
            self._usage = self._usage + Usage(apigw_requests=1)

    def usage(self) -> Usage:
        with self._lock:
            return self._usage

    def reset(self) -> None:
        with self._lock:
            self._usage = Usage()


def service_of(item_name: str) -> str:
    return next(service for prefix, service in SERVICES.items()
                if item_name.lower().startswith(prefix.lower()))


def charges_by_service(usage: Usage, architecture: str = "x86_64") -> dict[str, float]:
    """The month's charges so far, free tier applied, per AWS service name."""
    charges: dict[str, float] = {}
    for item in bill(usage, architecture, FREE_TIER).items:
        service = service_of(item.name)
        charges[service] = charges.get(service, 0.0) + item.cost_usd
    return charges


def billing_points(usage: Usage, architecture: str = "x86_64") -> list[Point]:
    """EstimatedCharges (total and per service, USD) and the free tier's used share (%)."""
    charges = charges_by_service(usage, architecture)
    usd = ("Currency", "USD")
    points = [Point("EstimatedCharges", round(sum(charges.values()), 6), "None", (usd,))]
    points += [Point("EstimatedCharges", round(cost, 6), "None", (("ServiceName", service), usd))
               for service, cost in sorted(charges.items())]
    points += [Point("UsedPercent", round(share * 100, 4), "Percent", (("Allowance", name),))
               for name, share in free_tier_share(usage).items()]
    return points


def projection_points(monthly_usd: float, shares: dict[str, float]) -> list[Point]:
    """A load replay's projected month: charges after the free tier and each allowance's share."""
    points = [Point("ProjectedMonthlyCharges", round(monthly_usd, 6), "None",
                    (("Currency", "USD"),))]
    points += [Point("ProjectedFreeTierPercent", round(share * 100, 4), "Percent",
                     (("Allowance", name),)) for name, share in shares.items()]
    return points


def usage_json(usage: Usage, architecture: str = "x86_64") -> dict[str, object]:
    """What ``GET /_harness/usage`` answers."""
    return {"usage": asdict(usage), "charges_usd": charges_by_service(usage, architecture),
            "free_tier_share": free_tier_share(usage), "architecture": architecture,
            "bill": bill(usage, architecture, FREE_TIER).to_dict()}
