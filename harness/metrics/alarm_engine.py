"""Evaluates every metric alarm on the harness clock and runs its actions, as CloudWatch does.

Each tick (every ``interval_s`` of the harness clock; advancing the clock brings the next one at
once) reads the alarms from moto, computes the last ``EvaluationPeriods`` periods of each one's
metric (the harness's own points and those users put), and on a change of state records it and
publishes the notification AWS sends to each SNS action.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.aws_state import cloudwatch_alarms
from harness.aws_state.cloudwatch_alarms import AlarmView
from harness.aws_state.cloudwatch_metrics import naive_utc
from harness.clock import Clock, Timer
from harness.metrics.alarms import AlarmRule, Verdict, evaluate, statistic
from harness.metrics.store import MetricStore, Minute

log = logging.getLogger("harness.alarms")
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-south-1": "Asia Pacific (Mumbai)",
}


class AlarmEngine:
    """Start with ``start()``; ``close()`` cancels its timer and waits for a running tick."""

    def __init__(self, store: MetricStore, clock: Clock, interval_s: float = 10.0,
                 before: Callable[[], None] | None = None) -> None:
        self._store = store
        self._before = before
        """Called at each tick before the alarms are evaluated (billing figures are made)."""
        self._clock = clock
        self._interval = interval_s
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alarm-eval")
        self._timer: Timer | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._skipped: set[str] = set()
        cloudwatch_alarms.install()

    def start(self) -> None:
        self._arm()

    def _arm(self) -> None:
        with self._lock:
            if not self._closed:
                self._timer = self._clock.call_later(self._interval, self._tick, "alarms")

    def _tick(self) -> None:
        # On the clock's thread: hand the work over and come back at once.
        with self._lock:
            if self._closed:
                return
            self._worker.submit(self._run)

    def _run(self) -> None:
        try:
            self.evaluate_all()
        except Exception:  # one bad alarm must not stop every later evaluation
            log.exception("alarm evaluation failed")
        finally:
            self._arm()

    def evaluate_all(self) -> None:
        if self._before is not None:
            self._before()
        now = self._clock.now()
        for view in cloudwatch_alarms.metric_alarms():
            if view.math:
                if view.arn not in self._skipped:
                    self._skipped.add(view.arn)
                    log.warning("alarm %s uses metric math or is composite: not evaluated",
                                view.name)
                continue
            self._evaluate(view, now)

    def _evaluate(self, view: AlarmView, now: float) -> None:
        rule = AlarmRule(view.statistic, view.period_s, view.evaluation_periods,
                         view.datapoints_to_alarm, view.threshold, view.operator,
                         view.treat_missing)
        try:
            values = self.period_values(view, rule, now)
            verdict = evaluate(rule, values, view.state)
        except ValueError as error:
            log.warning("alarm %s cannot be evaluated: %s", view.name, error)
            return
        if verdict.state == view.state:
            return
        reason_data = {"version": "1.0", "queryDate": _iso(now), "statistic": view.statistic,
                       "period": view.period_s, "recentDatapoints": list(verdict.values),
                       "threshold": view.threshold,
                       "evaluatedDatapoints": [{"value": v} for v in verdict.values]}
        old = view.state
        cloudwatch_alarms.set_state(view, verdict.state, verdict.reason, reason_data, now)
        if view.actions_enabled:
            self._act(view, old, verdict, now)

    def period_values(self, view: AlarmView, rule: AlarmRule, now: float) -> list[float | None]:
        """The statistic of each of the last periods, oldest first (None: no data)."""
        keys = self._store.matching(view.account, view.region, view.namespace,
                                    view.metric_name, view.dimensions)
        values: list[float | None] = []
        for back in range(rule.evaluation_periods, 0, -1):
            start, end = now - back * rule.period_s, now - (back - 1) * rule.period_s
            minutes: list[Minute] = []
            for key in keys:
                # A minute that began before ``start`` still holds points inside the period.
                minutes += self._store.minutes(key, start - 59.999, end)
            minutes += cloudwatch_alarms.user_minutes(view.account, view.region,
                                                      view.namespace, view.metric_name,
                                                      view.dimensions, start, end)
            values.append(statistic(minutes, rule.statistic))
        return values

    def _act(self, view: AlarmView, old: str, verdict: Verdict, now: float) -> None:
        for target in view.actions.get(verdict.state, ()):
            if ":sns:" not in target:
                cloudwatch_alarms.record_action(view, target, False, now,
                                                "only SNS actions run in the harness")
                continue
            region = REGION_NAMES.get(view.region, view.region)
            message = notification(view, old, verdict, now, region)
            try:
                cloudwatch_alarms.publish_sns(
                    target, json.dumps(message), f'{verdict.state}: "{view.name}" in {region}')
            except Exception as error:  # noqa: BLE001 - recorded as AWS records a failed action
                cloudwatch_alarms.record_action(view, target, False, now, str(error))
                continue
            cloudwatch_alarms.record_action(view, target, True, now)

    def reset(self) -> None:
        """Forget history; re-arm (the emulator's reset cancels every clock timer)."""
        self._skipped.clear()
        cloudwatch_alarms.forget()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        self._arm()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
        self._worker.shutdown(wait=True, cancel_futures=True)


def notification(view: AlarmView, old: str, verdict: Verdict, now: float,
                 region_name: str) -> dict[str, Any]:
    """The JSON message CloudWatch publishes to an alarm's SNS actions."""
    alarm = view.raw
    return {
        "AlarmName": view.name, "AlarmDescription": alarm.description,
        "AWSAccountId": view.account, "AlarmConfigurationUpdatedTimestamp": _iso(now),
        "NewStateValue": verdict.state, "NewStateReason": verdict.reason,
        "StateChangeTime": _iso(now), "Region": region_name, "AlarmArn": view.arn,
        "OldStateValue": old, "OKActions": list(view.actions["OK"]),
        "AlarmActions": list(view.actions["ALARM"]),
        "InsufficientDataActions": list(view.actions["INSUFFICIENT_DATA"]),
        "Trigger": {
            "MetricName": view.metric_name, "Namespace": view.namespace,
            "StatisticType": "ExtendedStatistic" if view.statistic.startswith("p")
            else "Statistic",
            "Statistic": view.statistic.upper(), "Unit": alarm.unit,
            "Dimensions": [{"value": v, "name": n} for n, v in view.dimensions],
            "Period": view.period_s, "EvaluationPeriods": view.evaluation_periods,
            "DatapointsToAlarm": view.datapoints_to_alarm,
            "ComparisonOperator": view.operator, "Threshold": view.threshold,
            "TreatMissingData": view.treat_missing, "EvaluateLowSampleCountPercentile": ""},
    }


def _iso(epoch: float) -> str:
    return naive_utc(epoch).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
