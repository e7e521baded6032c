"""Metrics: hears every invocation and throttle of the Lambda service and records the points
Lambda would emit, in the store moto's CloudWatch reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.apigw.gateway import ApiCall, ExecuteApiGateway
from harness.aws_state import cloudwatch_metrics, snap_start
from harness.clock import Clock
from harness.errors import TooManyRequestsError
from harness.lambda_.environment import InvokeRecord
from harness.lambda_.service import LambdaService
from harness.lambda_.spec import FunctionSpec
from harness.metrics import apigw_metrics, billing, lambda_metrics
from harness.metrics.alarm_engine import AlarmEngine
from harness.metrics.lambda_metrics import Point
from harness.metrics.store import Handles, MetricStore, Series

DEFAULT_ACCOUNT = "123456789012"  # moto's; the account whose functions ran last is used
_MAX_CACHED = 4096
"""Series sets kept for ``Metrics._cached`` (a function version or an API stage each)."""


@dataclass
class _Cached:
    where: tuple[str, str, str]
    """(account, region, namespace)."""
    series: list[Series]
    handles: Handles


class Metrics:
    """Owns the store; ``close()`` stops listening and takes the store away from CloudWatch."""

    def __init__(self, lambdas: LambdaService, clock: Clock,
                 gateway: ExecuteApiGateway | None = None,
                 store: MetricStore | None = None) -> None:
        self.store = store or MetricStore()
        self.meter = billing.UsageMeter(clock.now)
        self._clock = clock
        self._lambdas = lambdas
        self._gateway = gateway
        self._account = DEFAULT_ACCOUNT
        self._series: dict[tuple[object, ...], _Cached] = {}
        lambdas.add_listener(self._invoked)
        lambdas.add_throttle_listener(self._throttled)
        snap_start.add_version_observer(self._snapshot_event)
        if gateway is not None:
            gateway.add_listener(self._answered)
        self._uninstall = cloudwatch_metrics.install(self.store)
        self.alarms = AlarmEngine(self.store, clock, before=self.publish_billing)
        self.alarms.start()

    def put(self, account: str, region: str, namespace: str, points: list[Point]) -> None:
        self.store.add_many(account, region, namespace,
                            [(p.name, p.dimensions, p.unit, p.value) for p in points],
                            self._clock.now())

    def usage_json(self) -> dict[str, object]:
        return billing.usage_json(self.meter.usage(), snapshots=self.meter.snapshots())

    def publish_billing(self) -> None:
        """The month's charges and free-tier share so far, as of now (each alarm tick)."""
        self.put(self._account, billing.BILLING_REGION, billing.BILLING_NAMESPACE,
                 [p for p in billing.billing_points(self.meter.usage())
                  if p.name == "EstimatedCharges"])
        self.put(self._account, billing.BILLING_REGION, billing.FREE_TIER_NAMESPACE,
                 [p for p in billing.billing_points(self.meter.usage())
                  if p.name != "EstimatedCharges"])

    def _invoked(self, spec: FunctionSpec, record: InvokeRecord) -> None:
        self._account = spec.account_id
        report = record.report
        self.meter.invocation(report.billed_duration_ms, spec.memory_mb,
                              report.billed_restore_duration_ms
                              if report.restore_duration_ms is not None else None)
        where = (spec.account_id, spec.region, lambda_metrics.NAMESPACE)
        cached = self._cached(("lambda", *where, spec.name, spec.version), where,
                              lambda: lambda_metrics.invocation_series(spec.name, spec.version))
        self._add(cached, lambda_metrics.invocation_values(
            cached.series, duration_ms=report.duration_ms, error=record.error_type is not None,
            concurrent=self._lambdas.busy(spec)))

    def _cached(self, key: tuple[object, ...], where: tuple[str, str, str],
                series: Callable[[], list[Series]]) -> _Cached:
        """The series under ``key`` and the store's handles of them: an invocation or an API
        request adds to the same dozen series every time, looked up once."""
        found = self._series.get(key)
        if found is None:
            if len(self._series) >= _MAX_CACHED:
                self._series.clear()
            made = series()
            found = self._series[key] = _Cached(where, made, self.store.handles(*where, made))
        return found

    def _add(self, cached: _Cached, values: list[float]) -> None:
        at = self._clock.now()
        if not self.store.add_values(cached.handles, values, at):  # the store was cleared
            cached.handles = self.store.handles(*cached.where, cached.series)
            self.store.add_values(cached.handles, values, at)

    def async_point(self, metric: str, event: Any, value: float) -> None:
        """From Lambda's asynchronous queue (harness.triggers.async_invoke)."""
        self.put(event.account, event.region, lambda_metrics.NAMESPACE,
                 lambda_metrics.async_points(metric, event.name, event.qualifier, value))

    def recursion_point(self, function_arn: str, dropped: int) -> None:
        """From an SQS mapping's poller that stopped a recursive loop (harness.triggers.sqs)."""
        parts = function_arn.split(":")
        name, region, account = parts[6], parts[3], parts[4]
        version = parts[7] if len(parts) > 7 else lambda_metrics.LATEST
        self.put(account, region, lambda_metrics.NAMESPACE,
                 lambda_metrics.recursion_points(name, version, dropped))

    def _snapshot_event(self, event: str, version: snap_start.SnapVersion) -> None:
        self.meter.snapshot_event(event, version.account_id, version.region,
                                  version.function_name, version.version, version.memory_mb)

    def _throttled(self, spec: FunctionSpec, error: TooManyRequestsError) -> None:
        self.put(spec.account_id, spec.region, lambda_metrics.NAMESPACE,
                 lambda_metrics.throttle_points(spec.name, spec.version))

    def _answered(self, call: ApiCall) -> None:
        if call.kind == "rest":  # the meter prices REST APIs (harness.load.cost)
            self.meter.api_request()
        cached = self._cached(("api", *apigw_metrics.series_key(call)),
                              (call.account_id, call.region, apigw_metrics.NAMESPACE),
                              lambda: apigw_metrics.api_series(call))
        self._add(cached, apigw_metrics.api_values(cached.series, call))

    def reset(self) -> None:
        self._series.clear()
        self.store.clear()
        self.meter.reset()
        self.alarms.reset()

    def close(self) -> None:
        self.alarms.close()
        self._lambdas.remove_listeners(self._invoked, self._throttled)
        snap_start.remove_version_observer(self._snapshot_event)
        if self._gateway is not None:
            self._gateway.remove_listener(self._answered)
        self._uninstall()
