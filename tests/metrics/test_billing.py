"""Usage and cost as CloudWatch metrics: AWS/Billing EstimatedCharges (us-east-1), the free
tier's share, /_harness/usage; a load replay's projection (tests/load: the billing alarm)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from harness.load.cost import Usage
from harness.metrics.billing import billing_points, projection_points
from tests.metrics.test_alarms import advance
from tests.metrics.test_lambda_metrics import window


def test_charges_start_after_the_free_tier() -> None:
    under = {(p.name, p.dimensions): p.value for p in billing_points(Usage(lambda_requests=10))}
    assert under[("EstimatedCharges", (("Currency", "USD"),))] == 0
    assert under[("UsedPercent", (("Allowance", "lambda_requests"),))] == 0.001
    over = {(p.name, p.dimensions): p.value
            for p in billing_points(Usage(lambda_requests=2_000_000))}
    lam = over[("EstimatedCharges", (("ServiceName", "AWSLambda"), ("Currency", "USD")))]
    assert lam == 0.2  # the million requests past the free tier, at $0.20 per million
    assert over[("EstimatedCharges", (("Currency", "USD"),))] == lam
    assert {p.name for p in projection_points(1.5, {"lambda_requests": 2.0})} == {
        "ProjectedMonthlyCharges", "ProjectedFreeTierPercent"}


def test_the_usage_endpoint_and_billing_metrics_follow_invocations(
        harness_client, harness_endpoint, create_function) -> None:
    def usage() -> dict:
        with urllib.request.urlopen(f"{harness_endpoint}/_harness/usage") as response:
            return json.loads(response.read())

    before = usage()["usage"]["lambda_requests"]
    name = create_function()
    for _ in range(3):
        harness_client("lambda").invoke(FunctionName=name, Payload=b"{}")
    after = usage()
    assert after["usage"]["lambda_requests"] == before + 3
    assert after["usage"]["gb_seconds"] > 0
    # Requests and GB-seconds well inside the free tier cost nothing. SnapStart has no free
    # tier: versions other tests published on this session's emulator are Lambda's only charge.
    items = after["bill"]["items"]
    assert all(item["cost_usd"] == 0 for item in items if "SnapStart" not in item["name"])
    snapstart_usd = sum(item["cost_usd"] for item in items if "SnapStart" in item["name"])
    assert after["charges_usd"]["AWSLambda"] == pytest.approx(snapstart_usd)

    cw = harness_client("cloudwatch", region_name="us-east-1")
    deadline = time.monotonic() + 60
    points: list = []
    while not points and time.monotonic() < deadline:
        advance(harness_endpoint, 11)  # past the next billing tick
        points = cw.get_metric_statistics(
            Namespace="Harness/FreeTier", MetricName="UsedPercent", Period=86400,
            Statistics=["Maximum"], Dimensions=[{"Name": "Allowance",
                                                 "Value": "lambda_requests"}],
            **window(cw))["Datapoints"]
        time.sleep(0.1)
    assert points and points[0]["Maximum"] > 0
    charges = cw.get_metric_statistics(
        Namespace="AWS/Billing", MetricName="EstimatedCharges", Period=86400,
        Statistics=["Maximum"], Dimensions=[{"Name": "Currency", "Value": "USD"}], **window(cw))
    # charges only grow: the latest tick's, rounded to 6 digits, is at most what is due now
    [latest] = [p["Maximum"] for p in charges["Datapoints"]]
    assert 0 <= latest <= round(usage()["bill"]["total_usd"], 6)
