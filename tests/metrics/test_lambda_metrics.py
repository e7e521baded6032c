"""AWS/Lambda metrics as Lambda emits them, read back with plain boto3 CloudWatch calls."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.metrics.lambda_metrics import dimension_sets, invocation_points
from harness.metrics.store import MetricStore, SeriesKey
from tests.emulator.support import own_emulator


def window(client: Any) -> dict[str, datetime]:
    """An hour either side of the harness clock's now (tests may have advanced it)."""
    with urllib.request.urlopen(f"{client.meta.endpoint_url}/_harness/clock") as response:
        now = datetime.fromtimestamp(json.loads(response.read())["now"], UTC)
    return {"StartTime": now - timedelta(hours=1), "EndTime": now + timedelta(hours=1)}


def stat(cw: Any, name: str, function: str, statistic: str, **dims: str) -> float:
    dimensions = [{"Name": "FunctionName", "Value": function}] + [
        {"Name": k, "Value": v} for k, v in dims.items()]
    points = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=name, Period=86400,
                                      Statistics=[statistic], Dimensions=dimensions,
                                      **window(cw))["Datapoints"]
    return sum(p[statistic] for p in points)


def test_invocations_errors_and_duration_count_exactly(harness_client, create_function) -> None:
    name = create_function()
    lam, cw = harness_client("lambda"), harness_client("cloudwatch")
    for i in range(5):
        lam.invoke(FunctionName=name, Payload=json.dumps({"i": i}).encode())
    for _ in range(2):
        lam.invoke(FunctionName=name, Payload=b'{"action": "raise"}')
    assert stat(cw, "Invocations", name, "Sum") == 7
    assert stat(cw, "Errors", name, "Sum") == 2
    assert stat(cw, "Duration", name, "SampleCount") == 7
    assert stat(cw, "Duration", name, "Maximum") > 0
    assert stat(cw, "Invocations", name, "Sum", Resource=name) == 7
    assert stat(cw, "ConcurrentExecutions", name, "Maximum") >= 1

    listed = cw.list_metrics(Namespace="AWS/Lambda",
                             Dimensions=[{"Name": "FunctionName", "Value": name}])["Metrics"]
    assert {"Invocations", "Errors", "Duration", "ConcurrentExecutions"} <= {
        m["MetricName"] for m in listed}
    data = cw.get_metric_data(MetricDataQueries=[{"Id": "inv", "MetricStat": {
        "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                   "Dimensions": [{"Name": "FunctionName", "Value": name}]},
        "Period": 60, "Stat": "Sum"}}], **window(cw))["MetricDataResults"]
    assert sum(data[0]["Values"]) == 7


def test_a_throttle_counts_in_throttles_not_invocations(harness_client, lambda_client,
                                                       create_function) -> None:
    name = create_function()
    lam, cw = lambda_client, harness_client("cloudwatch")  # no client retries of the 429
    lam.invoke(FunctionName=name, Payload=b"{}")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert stat(cw, "Throttles", name, "Sum") == 1
    assert stat(cw, "Invocations", name, "Sum") == 1


def test_a_published_version_has_its_own_resource_and_executed_version() -> None:
    sets = dimension_sets("f", "3")
    assert (("FunctionName", "f"), ("Resource", "f:3"), ("ExecutedVersion", "3")) in sets
    assert dimension_sets("f", "$LATEST")[-1] == (("FunctionName", "f"), ("Resource", "f"))
    points = invocation_points("f", "$LATEST", duration_ms=1.5, error=False, concurrent=2)
    assert {(p.name, p.value) for p in points if p.dimensions == ()} == {
        ("Invocations", 1), ("Errors", 0), ("Duration", 1.5), ("ConcurrentExecutions", 2)}


def test_the_store_aggregates_per_minute_and_stays_bounded() -> None:
    store = MetricStore(max_minutes=3, max_values=10)
    key = SeriesKey("1", "r", "ns", "m", (), "Count")
    for i in range(100):
        store.add(key, float(i), at=600.0 + i)  # minutes 600, 660
    for minute in range(5):
        store.add(key, 1.0, at=1200.0 + 60 * minute)
    [(_, minutes)] = store.series("1", "r")
    assert [m.start for m in minutes] == [1320.0, 1380.0, 1440.0]
    first = store.minutes(key, 0, 1000)
    assert first == []
    store2 = MetricStore(max_values=10)
    for i in range(100):
        store2.add(key, float(i), at=0.0)
    [(_, [minute])] = store2.series("1", "r")
    assert (minute.count, minute.total, minute.low, minute.high) == (100, 4950.0, 0.0, 99.0)
    assert len(minute.values) == 10


def test_handles_add_to_their_series_in_order_until_the_store_is_cleared() -> None:
    store = MetricStore()
    series = [("Invocations", (), "Count"), ("Duration", (("FunctionName", "f"),), "Milliseconds")]
    handles = store.handles("1", "r", "AWS/Lambda", series)
    assert store.handles("1", "r", "AWS/Lambda", series).minutes == handles.minutes  # the same
    for value in (3.0, 5.0):
        assert store.add_values(handles, [1, value], at=125.0)
    invocations = store.minutes(SeriesKey("1", "r", "AWS/Lambda", *series[0]), 0, 1000)
    duration = store.minutes(SeriesKey("1", "r", "AWS/Lambda", *series[1]), 0, 1000)
    assert [(m.start, m.count, m.total) for m in invocations] == [(120.0, 2, 2.0)]
    assert [(m.low, m.high, m.values) for m in duration] == [(3.0, 5.0, [3.0, 5.0])]
    store.clear()
    assert not store.add_values(handles, [1, 7.0], at=125.0)  # void: nothing lands nowhere
    assert store.series("1", "r") == []


def test_metrics_count_again_after_the_store_is_cleared(tmp_path: Path) -> None:
    with own_emulator(tmp_path) as own:
        name = own.create_function()
        lam, cw = own.client("lambda"), own.client("cloudwatch")
        lam.invoke(FunctionName=name, Payload=b"{}")
        assert stat(cw, "Invocations", name, "Sum") == 1
        assert own.emulator.metrics is not None
        own.emulator.metrics.store.clear()  # the series handles the emitter keeps go void
        assert stat(cw, "Invocations", name, "Sum") == 0
        for _ in range(2):
            lam.invoke(FunctionName=name, Payload=b"{}")
        assert stat(cw, "Invocations", name, "Sum") == 2
        assert stat(cw, "Duration", name, "SampleCount", Resource=name) == 2


def test_the_asynchronous_queue_counts_received_age_and_dropped(
        harness_client, harness_emulator, create_function) -> None:
    name = create_function()
    lam, cw = harness_client("lambda"), harness_client("cloudwatch")
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"action": "raise"}')
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert harness_emulator.triggers.async_events.wait_for_events(60)
    assert stat(cw, "AsyncEventsReceived", name, "Sum") == 2
    assert stat(cw, "AsyncEventAge", name, "SampleCount") == 2
    assert stat(cw, "AsyncEventsDropped", name, "Sum") == 1
    assert stat(cw, "Invocations", name, "Sum") == 2
