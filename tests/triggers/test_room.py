"""The triggers room takes over moto's invoke path: moto's services reach real functions."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import TRIVIAL


def _events_logged(logs, name: str, deadline_s: float = 60) -> list[str]:
    """Poll the function's log group until an "event" line appears (or the deadline passes)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            found = []
        lines = [e["message"] for e in found if e["message"].startswith("event ")]
        if lines:
            return lines
        time.sleep(0.1)
    return []


def test_moto_sns_delivery_runs_the_function_in_the_harness_not_docker(
        harness_client, create_function) -> None:
    name = create_function({"app.py": TRIVIAL})
    sns, logs = harness_client("sns"), harness_client("logs")
    topic = sns.create_topic(Name=f"topic-{name}")["TopicArn"]
    arn = harness_client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    harness_client("lambda").add_permission(
        FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello from sns")
    lines = _events_logged(logs, name)
    assert lines, "the SNS delivery never ran the function"
    assert json.loads(lines[0][len("event "):])["Records"][0]["Sns"]["Message"] == "hello from sns"
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    for stream in streams:
        events = logs.get_log_events(logGroupName=f"/aws/lambda/{name}",
                                     logStreamName=stream["logStreamName"])["events"]
        assert not any("docker" in e["message"].lower() for e in events)


def test_clock_endpoint_advances_and_refuses_going_back(harness_endpoint) -> None:
    import urllib.error
    import urllib.request

    def call(body: bytes | None) -> tuple[int, dict]:
        request = urllib.request.Request(f"{harness_endpoint}/_harness/clock", data=body,
                                         method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, before = call(None)
    assert status == 200
    status, after = call(json.dumps({"advance": 3600}).encode())
    assert status == 200 and after["offset"] - before["offset"] == pytest.approx(3600)
    assert after["now"] - before["now"] >= 3600
    status, error = call(json.dumps({"advance": -5}).encode())
    assert status == 400 and "advance" in error["message"]
    status, error = call(b"not json")
    assert status == 400
