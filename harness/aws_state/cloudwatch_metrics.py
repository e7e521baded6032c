"""The harness's metrics as moto's CloudWatch reads them: a ``CloudWatchMetricProvider`` (moto
asks every provider on each GetMetricStatistics, GetMetricData and ListMetrics), so nothing is
copied into moto and every query sees the points made so far.

The provider is process-wide (moto's state is); the store of the emulator started last answers.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum
from moto.core.common_models import CloudWatchMetricProvider

from harness.metrics.store import MetricStore

_stores: list[MetricStore] = []
_lock = threading.Lock()
_exact = threading.local()
"""While GetMetricStatistics runs on this thread: the dimension set it asked for."""
_patched = False


def naive_utc(epoch: float) -> datetime:
    """moto compares naive UTC datetimes; one aware datum breaks every query in the namespace."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


class HarnessMetrics(CloudWatchMetricProvider):
    @staticmethod
    def get_cloudwatch_metrics(account_id: str, region: str) -> list[Any]:
        with _lock:
            store = _stores[-1] if _stores else None
        if store is None:
            return []
        data = []
        for key, minutes in store.series(account_id, region):
            dimensions = [{"Name": n, "Value": v} for n, v in key.dimensions]
            for minute in minutes:
                data.append(MetricAggregatedDatum(
                    key.namespace, key.name, minute.low, minute.high, minute.count, minute.total,
                    dimensions, naive_utc(minute.start), key.unit))
        return data


def _exact_dimensions() -> None:
    """GetMetricStatistics matches a metric's dimension set exactly, as CloudWatch does; moto
    matches every metric whose dimensions include the ones asked for, which would add up the
    same invocations once per dimension set Lambda emits them under."""
    global _patched
    if _patched:
        return
    statistics = CloudWatchBackend.get_metric_statistics
    all_metrics = CloudWatchBackend.get_all_metrics

    def get_metric_statistics(self: Any, *args: Any, **kwargs: Any) -> Any:
        dimensions = kwargs.get("dimensions", args[6] if len(args) > 6 else [])
        _exact.wanted = sorted((d["Name"], d["Value"]) for d in dimensions or [])
        try:
            return statistics(self, *args, **kwargs)
        finally:
            _exact.wanted = None

    def get_all_metrics(self: Any) -> Any:
        found = all_metrics(self)
        wanted = getattr(_exact, "wanted", None)
        if wanted is None:
            return found
        return [md for md in found
                if sorted((d.name, d.value) for d in md.dimensions) == wanted]

    CloudWatchBackend.get_metric_statistics = get_metric_statistics  # type: ignore[method-assign]
    CloudWatchBackend.get_all_metrics = get_all_metrics  # type: ignore[method-assign]
    _patched = True


def install(store: MetricStore) -> Any:
    """Make ``store`` what CloudWatch reads; returns the call that takes it away again."""
    with _lock:
        _exact_dimensions()
        _stores.append(store)

    def uninstall() -> None:
        with _lock:
            if store in _stores:
                _stores.remove(store)
    return uninstall
