"""SnapStart on the bill: each published version's snapshot cached on the harness clock (3 hours
at least), each restore charged per GB, both Lambda's charges in /_harness/usage, AWS/Billing
EstimatedCharges and `harness cost`, with no free tier."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.cli.cost import live_rows
from harness.clock import Clock
from harness.load.cost import PRICES, SNAPSTART_CACHE_ITEM, SNAPSTART_RESTORE_ITEM
from harness.metrics.billing import UsageMeter, billing_points
from tests.emulator.support import own_emulator
from tests.lambda_.snapstart_support import published_snap_function, restore_in_new_environments
from tests.metrics.test_alarms import advance
from tests.metrics.test_lambda_metrics import window

approx = pytest.approx
HOUR = 3600.0
KEY = ("123456789012", "us-east-1", "fn", "1")


def test_the_meter_bills_a_snapshot_from_publish_to_deletion_on_the_clock() -> None:
    with Clock() as clock:
        meter = UsageMeter(clock.now)
        meter.snapshot_event("published", *KEY, memory_mb=512)
        # published a moment ago: billed 3 hours already (0.5 GB x 10,800 s)
        assert meter.usage().snapstart_cache_gb_seconds == approx(5400)
        clock.advance(4 * HOUR)
        assert meter.usage().snapstart_cache_gb_seconds == approx(0.5 * 4 * HOUR, abs=1)
        meter.snapshot_event("deleted", *KEY, memory_mb=512)
        final = meter.usage().snapstart_cache_gb_seconds
        clock.advance(10 * HOUR)
        assert meter.usage().snapstart_cache_gb_seconds == final  # deleted: no longer kept
        # the same name and version published again is a new snapshot, billed on its own
        meter.snapshot_event("published", *KEY, memory_mb=1024)
        assert meter.usage().snapstart_cache_gb_seconds == approx(final + 1.0 * 3 * HOUR)
        assert [s["deleted"] for s in meter.snapshots()] == [True, False]


def test_a_version_whose_snapshot_failed_is_not_billed_for_caching() -> None:
    with Clock() as clock:
        meter = UsageMeter(clock.now)
        meter.snapshot_event("published", *KEY, memory_mb=512)
        meter.snapshot_event("failed", *KEY, memory_mb=512)
        assert meter.usage().snapstart_cache_gb_seconds == 0
        assert meter.snapshots() == []


def test_snapstart_charges_reach_estimated_charges_inside_the_free_tier() -> None:
    meter = UsageMeter()
    meter.invocation(10, 512, billed_restore_ms=5)  # a restore: 0.5 GB restored
    charges = {p.dimensions: p.value for p in billing_points(meter.usage())
               if p.name == "EstimatedCharges"}
    lam = charges[(("ServiceName", "AWSLambda"), ("Currency", "USD"))]
    # one request and 7.5 ms x 0.5 GB are inside the free tier; the restore is not
    assert lam == round(0.5 * PRICES.snapstart_restore_per_gb, 6)


def _usage(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_harness/usage") as response:
        return json.loads(response.read())


def _lambda_estimated_charges(cw: Any, endpoint: str) -> float:
    """AWS/Billing EstimatedCharges of AWSLambda, once the billing tick has published it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        advance(endpoint, 11)  # past the next billing tick
        points = cw.get_metric_statistics(
            Namespace="AWS/Billing", MetricName="EstimatedCharges", Period=60,
            Statistics=["Maximum"], Dimensions=[{"Name": "ServiceName", "Value": "AWSLambda"},
                                                {"Name": "Currency", "Value": "USD"}],
            **window(cw))["Datapoints"]
        if points:
            return float(max(p["Maximum"] for p in points))
        time.sleep(0.1)
    raise AssertionError("no EstimatedCharges for AWSLambda within 60 s")


def test_a_snapstart_version_bills_its_restores_and_its_cache_through_the_emulator(
        tmp_path: Path) -> None:
    n, memory_mb = 3, 256
    gb = memory_mb / 1024
    with own_emulator(tmp_path) as emu:
        lam = emu.client("lambda")
        name = f"snap-bill-{tmp_path.name[-8:]}".replace("_", "-")
        version = published_snap_function(emu, name, memory_mb)
        before = _usage(emu.url)["usage"]

        results = restore_in_new_environments(lam, name, version, n, tmp_path / "in-flight")
        reports = [report for _, report, _ in results]
        assert all(r.restore_duration_ms is not None for r in reports)
        data = _usage(emu.url)
        usage = data["usage"]
        assert usage["snapstart_restore_gb"] - before["snapstart_restore_gb"] == approx(n * gb)
        # Billed Restore Duration is billed as duration, with the invocation's own
        billed_ms = sum(r.billed_duration_ms + (r.billed_restore_duration_ms or 0)
                        for r in reports)
        assert usage["gb_seconds"] - before["gb_seconds"] == approx(billed_ms / 1000 * gb)
        # the version's snapshot: kept a few seconds so far, billed its 3 hours already
        [snapshot] = data["snapstart_snapshots"]
        assert (snapshot["function"], snapshot["version"]) == (name, version)
        assert snapshot["cached_s"] < 3 * HOUR and snapshot["gb_seconds"] == approx(gb * 3 * HOUR)
        items = {item["name"]: item for item in data["bill"]["items"]}
        restore_usd = n * gb * PRICES.snapstart_restore_per_gb
        cache_usd = gb * 3 * HOUR * PRICES.snapstart_cache_per_gb_second
        assert items[SNAPSTART_RESTORE_ITEM]["cost_usd"] == approx(restore_usd)
        assert items[SNAPSTART_CACHE_ITEM]["cost_usd"] == approx(cache_usd)
        assert items[SNAPSTART_RESTORE_ITEM]["free"] == 0
        # every other Lambda figure is inside the free tier: Lambda's charges are SnapStart's
        assert data["charges_usd"]["AWSLambda"] == approx(restore_usd + cache_usd)
        cw = emu.client("cloudwatch")
        assert _lambda_estimated_charges(cw, emu.url) == approx(restore_usd + cache_usd,
                                                                abs=1e-6)
        rows = dict(live_rows(emu.url, data))
        assert rows["SnapStart"].startswith(f"1 version cached, {gb * 3 * HOUR:,.1f} GB-s")

        # Past the 3 hours, caching accumulates with the clock; deleted, it stops.
        advance(emu.url, 5 * HOUR)
        cached = _usage(emu.url)["usage"]["snapstart_cache_gb_seconds"]
        assert cached >= gb * 5 * HOUR
        lam.delete_function(FunctionName=name)
        final = _usage(emu.url)["snapstart_snapshots"]
        assert final[0]["deleted"] and final[0]["cached_s"] >= 5 * HOUR
        advance(emu.url, 2 * HOUR)
        assert _usage(emu.url)["usage"]["snapstart_cache_gb_seconds"] == approx(
            final[0]["gb_seconds"])
