"""moto's CloudWatch alarms, as the harness's alarm evaluation reads and updates them.

moto stores alarms but never evaluates them, starts them in OK instead of INSUFFICIENT_DATA, and
has no DescribeAlarmHistory; here alarms start as AWS starts them, each state change is kept in a
history that DescribeAlarmHistory answers from, and actions are published through moto's SNS.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import (
    CloudWatchBackend,
    MetricAggregatedDatum,
    MetricDatum,
    cloudwatch_backends,
)
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.sns.models import sns_backends

from harness.aws_state.cloudwatch_metrics import naive_utc
from harness.metrics.store import Minute

_lock = threading.Lock()
_history: dict[str, list[dict[str, Any]]] = {}
"""Alarm ARN -> history items, newest last (what DescribeAlarmHistory lists)."""
_installed = False
MAX_HISTORY = 100


@dataclass(frozen=True)
class AlarmView:
    """A metric alarm's settings and state, read from moto."""

    account: str
    region: str
    name: str
    arn: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    operator: str
    treat_missing: str
    state: str
    actions_enabled: bool
    actions: dict[str, tuple[str, ...]]
    """State -> the ARNs notified when the alarm enters it."""
    math: bool
    """A metric-math or composite alarm (not evaluated here)."""
    raw: Any


def metric_alarms() -> list[AlarmView]:
    views = []
    for account, regions in list(cloudwatch_backends.items()):
        for region, backend in list(regions.items()):
            for alarm in list(backend.alarms.values()):
                views.append(_view(account, region, alarm))
    return views


def _view(account: str, region: str, alarm: Any) -> AlarmView:
    periods = int(alarm.evaluation_periods or 1)
    return AlarmView(
        account=account, region=region, name=alarm.name, arn=alarm.alarm_arn,
        namespace=alarm.namespace or "", metric_name=alarm.metric_name or "",
        dimensions=tuple((d.name, d.value) for d in alarm.dimensions),
        statistic=alarm.statistic or alarm.extended_statistic or "Average",
        period_s=int(alarm.period or 60), evaluation_periods=periods,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm or periods),
        threshold=float(alarm.threshold or 0), operator=alarm.comparison_operator or "",
        treat_missing=alarm.treat_missing_data or "missing", state=alarm.state_value,
        actions_enabled=bool(alarm.actions_enabled) and str(alarm.actions_enabled) != "false",
        actions={"ALARM": tuple(alarm.alarm_actions or ()), "OK": tuple(alarm.ok_actions or ()),
                 "INSUFFICIENT_DATA": tuple(alarm.insufficient_data_actions or ())},
        math=bool(alarm.metric_data_queries) or alarm.rule is not None, raw=alarm)


def set_state(view: AlarmView, state: str, reason: str, reason_data: dict[str, Any],
              at: float) -> None:
    """Change the alarm's state and record it in its history."""
    old = view.raw.state_value
    view.raw.update_state(reason, json.dumps(reason_data), state)
    view.raw.state_updated_timestamp = naive_utc(at)
    summary = f"Alarm updated from {old} to {state}"
    data = {"version": "1.0", "oldState": {"stateValue": old},
            "newState": {"stateValue": state, "stateReason": reason,
                         "stateReasonData": reason_data}}
    _remember(view.arn, {"AlarmName": view.name, "AlarmType": "MetricAlarm",
                         "Timestamp": naive_utc(at), "HistoryItemType": "StateUpdate",
                         "HistorySummary": summary, "HistoryData": json.dumps(data)})


def record_action(view: AlarmView, target: str, ok: bool, at: float, why: str = "") -> None:
    summary = (f"Successfully executed action {target}" if ok
               else f"Failed to execute action {target}. Received error: \"{why}\"")
    _remember(view.arn, {"AlarmName": view.name, "AlarmType": "MetricAlarm",
                         "Timestamp": naive_utc(at), "HistoryItemType": "Action",
                         "HistorySummary": summary, "HistoryData": json.dumps(
                             {"actionState": "Succeeded" if ok else "Failed"})})


def _remember(arn: str, item: dict[str, Any]) -> None:
    with _lock:
        items = _history.setdefault(arn, [])
        items.append(item)
        del items[:-MAX_HISTORY]


def publish_sns(topic_arn: str, message: str, subject: str) -> None:
    """Publish to a topic through moto's SNS (its subscribers: SQS, Lambda, HTTP)."""
    parts = topic_arn.split(":")
    if len(parts) < 6 or parts[2] != "sns":
        raise ValueError(f"{topic_arn} is not an SNS topic ARN")
    backend = sns_backends[parts[4]][parts[3]]
    backend.publish(message, arn=topic_arn, subject=subject)


def user_minutes(account: str, region: str, namespace: str, name: str,
                 dimensions: tuple[tuple[str, str], ...], start: float, end: float
                 ) -> list[Minute]:
    """Points users put with PutMetricData (moto keeps them), as minutes for evaluation."""
    backend = cloudwatch_backends[account][region]
    wanted = sorted(dimensions)
    low, high = naive_utc(start), naive_utc(end)
    found = []
    for datum in list(backend.metric_data):
        if (datum.namespace != namespace or datum.name != name or not low <= datum.timestamp < high
                or sorted((d.name, d.value) for d in datum.dimensions) != wanted):
            continue
        stamp = _epoch(datum.timestamp)
        if isinstance(datum, MetricDatum):
            value = float(datum.value)
            found.append(Minute(stamp, 1, value, value, value, [value]))
        elif isinstance(datum, MetricAggregatedDatum):
            found.append(Minute(stamp, int(datum.sample_count), float(datum.sum),
                                float(datum.min), float(datum.max)))
    return found


def _epoch(naive: datetime) -> float:
    return naive.replace(tzinfo=UTC).timestamp()


def forget() -> None:
    with _lock:
        _history.clear()


def install() -> None:
    """Alarms start in INSUFFICIENT_DATA, and DescribeAlarmHistory answers from the history."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    put_metric_alarm = CloudWatchBackend.put_metric_alarm

    def put_alarm(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("name", args[0] if args else None)
        existing = self.alarms.get(name)
        alarm = put_metric_alarm(self, *args, **kwargs)
        if existing is None:  # AWS: a new alarm has not been evaluated yet
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
        else:
            alarm.state_value = existing.state_value
        return alarm

    def describe_alarm_history(self: Any) -> ActionResult:
        name = self._get_param("AlarmName")
        kind = self._get_param("HistoryItemType")
        backend = self.cloudwatch_backend
        with _lock:
            items = [item for alarm in backend.alarms.values() if name in (None, alarm.name)
                     for item in _history.get(alarm.alarm_arn, [])]
        if kind:
            items = [item for item in items if item["HistoryItemType"] == kind]
        newest_first = self._get_param("ScanBy", "TimestampDescending") != "TimestampAscending"
        items.sort(key=lambda item: item["Timestamp"], reverse=newest_first)
        return ActionResult({"AlarmHistoryItems": items[:int(self._get_param("MaxRecords",
                                                                             100))]})

    CloudWatchBackend.put_metric_alarm = put_alarm  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]
