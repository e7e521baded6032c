"""Usage and cost as CloudWatch shows them: what the emulator served this month, billed with the
free tier, published as ``AWS/Billing`` ``EstimatedCharges`` (us-east-1, as AWS publishes it)
and as the share of each free-tier allowance used (``Harness/FreeTier`` ``UsedPercent``).

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitor_estimated_charges_with_cloudwatch.html
EstimatedCharges is the month's running total, by ``Currency`` and by ``ServiceName`` +
``Currency``. SnapStart's caching (per published version, from PublishVersion to its deletion on
the harness clock, at least 3 hours) and restores are Lambda's charges too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from harness.load.cost import (
    FREE_TIER,
    Usage,
    bill,
    free_tier_share,
    gb_seconds,
    snapstart_cache_gb_seconds,
)
from harness.metrics.lambda_metrics import Point

BILLING_REGION = "us-east-1"
BILLING_NAMESPACE = "AWS/Billing"
FREE_TIER_NAMESPACE = "Harness/FreeTier"
PROJECTION_NAMESPACE = "Harness/Billing"
SERVICES = {"lambda": "AWSLambda", "API Gateway": "AmazonApiGateway", "S3": "AmazonS3"}
DELETED_SNAPSHOTS_LISTED = 1000
"""Deleted SnapStart versions /_harness/usage lists (their charges are all kept)."""


@dataclass
class CachedSnapshot:
    """One SnapStart version's snapshot, kept from ``published`` to ``deleted`` (clock s)."""

    function_name: str
    version: str
    memory_mb: int
    published: float
    deleted: float | None = None

    def cached_s(self, now: float) -> float:
        return max(0.0, (now if self.deleted is None else self.deleted) - self.published)

    def to_dict(self, now: float) -> dict[str, Any]:
        cached = self.cached_s(now)
        return {"function": self.function_name, "version": self.version,
                "memory_mb": self.memory_mb, "cached_s": cached,
                "deleted": self.deleted is not None,
                "gb_seconds": snapstart_cache_gb_seconds(self.memory_mb, cached)}


class UsageMeter:
    """Counts what AWS would bill; thread-safe, O(1) per event. ``now`` is the harness clock,
    which SnapStart's caching is counted on."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        self._now = now
        self._live: dict[tuple[str, str, str, str], CachedSnapshot] = {}
        """SnapStart versions cached now; a deleted one's caching goes into ``_usage``."""
        self._deleted: deque[CachedSnapshot] = deque(maxlen=DELETED_SNAPSHOTS_LISTED)
        self._invocations = 0
        self._gb_seconds = 0.0
        self._restore_gb = 0.0
        self._api_requests = 0

    def invocation(self, billed_duration_ms: float, memory_mb: int,
                   billed_restore_ms: float | None = None) -> None:
        """One invocation; ``billed_restore_ms`` when its environment restored from a
        SnapStart snapshot (billed as duration, plus the restore's charge per GB)."""
        seconds = gb_seconds(billed_duration_ms + (billed_restore_ms or 0), memory_mb)
        with self._lock:
            # Plain sums on the invocation path; ``usage()`` makes them a Usage.
            self._invocations += 1
            self._gb_seconds += seconds
            if billed_restore_ms is not None:
                self._restore_gb += memory_mb / 1024.0

    def api_request(self) -> None:
        with self._lock:
            self._api_requests += 1

    def snapshot_event(self, event: str, account_id: str, region: str, function_name: str,
                       version: str, memory_mb: int) -> None:
        """A SnapStart version was "published", "deleted", or "failed" (never cached: unbilled)."""
        key = (account_id, region, function_name, version)
        now = self._now()
        with self._lock:
            kept = self._live.pop(key, None)
            if kept is not None and event != "failed":
                # deleted (or its name and version published again): its caching is final
                kept.deleted = now
                self._deleted.append(kept)
                self._usage = self._usage + Usage(snapstart_cache_gb_seconds=(
                    snapstart_cache_gb_seconds(kept.memory_mb, kept.cached_s(now))))
            if event == "published":
                self._live[key] = CachedSnapshot(function_name, version, memory_mb, now)

    def usage(self) -> Usage:
        now = self._now()
        with self._lock:
            live = sum(snapstart_cache_gb_seconds(s.memory_mb, s.cached_s(now))
                       for s in self._live.values())
            return self._usage + Usage(
                lambda_requests=self._invocations, gb_seconds=self._gb_seconds,
                apigw_requests=self._api_requests, snapstart_restore_gb=self._restore_gb,
                snapstart_cache_gb_seconds=live)

    def snapshots(self) -> list[dict[str, Any]]:
        """Each SnapStart version's caching so far, deleted ones first (GET /_harness/usage)."""
        now = self._now()
        with self._lock:
            return [s.to_dict(now) for s in (*self._deleted, *self._live.values())]

    def reset(self) -> None:
        with self._lock:
            self._usage = Usage()
            self._invocations = self._api_requests = 0
            self._gb_seconds = self._restore_gb = 0.0
            self._live.clear()
            self._deleted.clear()


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


def usage_json(usage: Usage, architecture: str = "x86_64",
               snapshots: list[dict[str, Any]] | None = None) -> dict[str, object]:
    """What ``GET /_harness/usage`` answers."""
    return {"usage": asdict(usage), "charges_usd": charges_by_service(usage, architecture),
            "free_tier_share": free_tier_share(usage), "architecture": architecture,
            "bill": bill(usage, architecture, FREE_TIER).to_dict(),
            "snapstart_snapshots": snapshots or []}
