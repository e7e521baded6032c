"""Metric alarms evaluated as CloudWatch evaluates them, on the harness clock, with SNS actions
that reach SQS, and their history."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from harness.metrics.alarms import AlarmRule, evaluate, percentile


def rule(**kw: Any) -> AlarmRule:
    base = dict(statistic="Sum", period_s=60, evaluation_periods=3, datapoints_to_alarm=2,
                threshold=5, operator="GreaterThanOrEqualToThreshold")
    return AlarmRule(**{**base, **kw})


def test_m_out_of_n_datapoints_decide_alarm_or_ok() -> None:
    assert evaluate(rule(), [1, 6, 7], "OK").state == "ALARM"
    assert evaluate(rule(), [6, 1, 2], "ALARM").state == "OK"
    verdict = evaluate(rule(), [1, 6, 7], "OK")
    assert verdict.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert evaluate(rule(operator="LessThanThreshold", threshold=2), [1, 1, 5], "OK").state \
        == "ALARM"


@pytest.mark.parametrize(("treat", "current", "expected"), [
    ("missing", "OK", "INSUFFICIENT_DATA"), ("notBreaching", "ALARM", "OK"),
    ("breaching", "OK", "ALARM"), ("ignore", "ALARM", "ALARM")])
def test_missing_data_is_treated_as_configured(treat: str, current: str, expected: str) -> None:
    assert evaluate(rule(treat_missing=treat), [None, None, None], current).state == expected


def test_missing_periods_count_only_when_told() -> None:
    assert evaluate(rule(), [None, 6, None], "OK").state == "OK"  # 1 breach of 2 needed
    assert evaluate(rule(treat_missing="breaching"), [None, 6, None], "OK").state == "ALARM"


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50, 99, 100)
    assert percentile([], 99) is None


def advance(endpoint: str, seconds: float) -> None:
    request = urllib.request.Request(f"{endpoint}/_harness/clock", method="POST",
                                     data=json.dumps({"advance": seconds}).encode())
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def state_after(cw: Any, endpoint: str, name: str, wanted: str, step_s: float = 11) -> str:
    """Move the clock past the next evaluation until the alarm is ``wanted`` (or a deadline)."""
    deadline = time.monotonic() + 60
    state = ""
    while time.monotonic() < deadline:
        state = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
        if state == wanted:
            return state
        advance(endpoint, step_s)
        time.sleep(0.1)
    return state


def test_an_errors_alarm_fires_its_sns_action_into_sqs_and_recovers(
        harness_client, harness_endpoint, create_function) -> None:
    name = create_function()
    lam, cw, sns, sqs = (harness_client(s) for s in ("lambda", "cloudwatch", "sns", "sqs"))
    queue = sqs.create_queue(QueueName=f"alarms-{name}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    topic = sns.create_topic(Name=f"alarms-{name}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    alarm = f"errors-{name}"
    cw.put_metric_alarm(
        AlarmName=alarm, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
        Dimensions=[{"Name": "FunctionName", "Value": name}], Period=60, EvaluationPeriods=1,
        Threshold=2, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", AlarmActions=[topic], OKActions=[topic])
    assert cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] \
        == "INSUFFICIENT_DATA"

    lam.invoke(FunctionName=name, Payload=b'{"action": "raise"}')
    assert state_after(cw, harness_endpoint, alarm, "OK", step_s=1) == "OK"  # 1 error < 2
    lam.invoke(FunctionName=name, Payload=b'{"action": "raise"}')
    assert state_after(cw, harness_endpoint, alarm, "ALARM", step_s=1) == "ALARM"

    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    notices = [json.loads(json.loads(m["Body"])["Message"]) for m in got.get("Messages", [])]
    assert [(n["OldStateValue"], n["NewStateValue"]) for n in notices][-1] == ("OK", "ALARM")
    last = notices[-1]
    assert last["AlarmName"] == alarm and last["Trigger"]["MetricName"] == "Errors"
    assert last["Region"] and last["NewStateReason"].startswith("Threshold Crossed")

    # A minute on, the errors are out of the window: back to OK (missing data is not breaching).
    assert state_after(cw, harness_endpoint, alarm, "OK", step_s=61) == "OK"
    history = cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="StateUpdate")
    summaries = [h["HistorySummary"] for h in history["AlarmHistoryItems"]]
    assert "Alarm updated from OK to ALARM" in summaries
    assert "Alarm updated from ALARM to OK" in summaries
    actions = cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")
    assert any(topic in h["HistorySummary"] for h in actions["AlarmHistoryItems"])
