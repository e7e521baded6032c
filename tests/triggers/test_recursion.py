"""Recursive loop detection: a function that sends its event back to the queue that triggers it
is stopped after 16 invocations, the lineage travelling in the trace header as on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.triggers import recursion
from tests.triggers.sqs_support import (
    LOOPER,
    Mappings,
    assert_loop_stopped,
    lineage_count,
    logged,
    make_queue,
    queue_empty,
    unique,
    wait_for,
)


@pytest.fixture
def sqs(harness_client: Any) -> Any:
    return harness_client("sqs")


@pytest.fixture
def logs(harness_client: Any) -> Any:
    return harness_client("logs")


@pytest.fixture
def mappings(create_function: Any, lambda_client: Any) -> Iterator[Mappings]:
    made = Mappings(lambda_client)
    yield made
    made.delete_all()


@pytest.fixture
def sender_role(harness_client: Any) -> str:
    """An execution role that may send to queues, as the looping function's must on AWS."""
    iam = harness_client("iam")
    name = "recursion-sender"
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        pass
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"])
    iam.put_role_policy(RoleName=name, PolicyName="send", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}))
    return arn


def looper(create_function: Any, role: str, url: str, **env: str) -> str:
    return create_function({"app.py": LOOPER}, Timeout=3, Role=role,
                           Environment={"Variables": {"QUEUE_URL": url, **env}})


def dropped(harness_client: Any, emulator: Any, function: str) -> float:
    """The function's RecursiveInvocationsDropped this hour, on the harness's clock (which
    other tests advance) as CloudWatch stamps it."""
    now = datetime.fromtimestamp(emulator.clock.now(), UTC)
    points = harness_client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="RecursiveInvocationsDropped",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1), Period=3600,
        Statistics=["Sum"])["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_a_sqs_loop_is_stopped_after_16_invocations_and_its_message_goes_to_the_dlq(
        create_function: Any, sender_role: str, mappings: Mappings, sqs: Any, logs: Any,
        harness_client: Any, harness_emulator: Any) -> None:
    dlq_url, dlq_arn = make_queue(sqs, unique("loop-dlq"))
    url, arn = make_queue(sqs, unique("loop"), RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}))
    name = looper(create_function, sender_role, url)
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"hops": 0}))
    runs = sorted(assert_loop_stopped(sqs, logs, name, dlq_url), key=lambda run: run["hops"])
    # Inside the function the lineage counts its invocations, and the message it sent kept
    # that header (botocore's X-Amzn-Trace-Id became the message's AWSTraceHeader).
    assert [lineage_count(run["trace"], name) for run in runs] == list(range(16))
    assert [run["received"] for run in runs[1:]] == [run["trace"] for run in runs[:-1]]
    assert queue_empty(sqs, url)
    assert wait_for(lambda: dropped(harness_client, harness_emulator, name), "the metric") == 1.0


def test_without_a_dlq_the_looping_message_is_dropped(
        create_function: Any, sender_role: str, mappings: Mappings, sqs: Any, logs: Any,
        harness_client: Any, harness_emulator: Any) -> None:
    url, arn = make_queue(sqs, unique("loop-nodlq"))
    name = looper(create_function, sender_role, url)
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"hops": 0}))
    wait_for(lambda: dropped(harness_client, harness_emulator, name), "RecursiveInvocationsDropped")
    wait_for(lambda: len(logged(logs, name, "LOOP")) >= 16, "16 invocations to be logged")
    assert sorted(run["hops"] for run in logged(logs, name, "LOOP")) == list(range(16))
    assert queue_empty(sqs, url)


def test_recursive_loop_allow_lets_the_chain_go_on(
        create_function: Any, sender_role: str, mappings: Mappings, sqs: Any, logs: Any,
        lambda_client: Any, harness_client: Any, harness_emulator: Any) -> None:
    url, arn = make_queue(sqs, unique("loop-allow"))
    name = looper(create_function, sender_role, url, STOP_AT="20")
    assert lambda_client.put_function_recursion_config(
        FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"hops": 0}))
    wait_for(lambda: len(logged(logs, name, "LOOP")) >= 20, "20 invocations")
    assert sorted(run["hops"] for run in logged(logs, name, "LOOP")) == list(range(20))
    wait_for(lambda: queue_empty(sqs, url), "the queue to be empty")
    assert dropped(harness_client, harness_emulator, name) == 0.0


def test_recursion_config_api(create_function: Any, lambda_client: Any) -> None:
    name = create_function()
    assert lambda_client.get_function_recursion_config(
        FunctionName=name)["RecursiveLoop"] == "Terminate"
    lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    assert lambda_client.get_function_recursion_config(
        FunctionName=name)["RecursiveLoop"] == "Allow"
    with pytest.raises(ClientError) as bad:
        lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Maybe")
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    assert "[Allow, Terminate]" in bad.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        lambda_client.get_function_recursion_config(FunctionName="no-such-function")
    assert missing.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Function not found: "
                   "arn:aws:lambda:us-east-1:123456789012:function:no-such-function"}


# -- the lineage, without sockets --------------------------------------------------------------
ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def test_lineage_reads_the_forms_aws_writes() -> None:
    assert recursion.parse_lineage("037bed70:0") == {"037bed70": 0}
    assert recursion.parse_lineage("1:fe460cdd:3") == {"fe460cdd": 3}
    assert recursion.parse_lineage("a87bd80c:1|68fd508a:5|c512fbe3:2") == {
        "a87bd80c": 1, "68fd508a": 5, "c512fbe3": 2}
    assert recursion.parse_lineage("garbage") == {}
    assert recursion.parse_lineage(None) == {}


def test_counted_header_keeps_the_root_and_counts_this_function() -> None:
    key = recursion.function_key(ARN)
    assert key == recursion.function_key(ARN + ":live")  # a qualifier is the same function
    header = recursion.counted_header(
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;"
        "Lineage=1:aaaaaaaa:4", key, 7)
    fields = recursion.parse_header(header)
    assert fields["Root"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert fields["Sampled"] == "1" and fields["Parent"] != "53995c3f42cd8ad8"
    assert recursion.parse_lineage(fields["Lineage"]) == {"aaaaaaaa": 4, key: 7}
    assert recursion.parse_header(recursion.counted_header(None, key, 0))["Root"].startswith("1-")


def test_screen_stops_the_seventeenth_invocation_unless_allowed() -> None:
    def at(count: int) -> str:
        return f"Root=1-1-2;Lineage=1:{recursion.function_key(ARN)}:{count}"

    fresh = recursion.screen(ARN, [None], "Terminate")
    assert fresh.allowed == (0,) and fresh.trace_header is not None
    assert recursion.screen(ARN, [at(14)], "Terminate").allowed == (0,)  # the 16th
    assert recursion.screen(ARN, [at(15)], "Terminate").stopped == (0,)  # the 17th
    assert recursion.screen(ARN, [at(15)], "Allow").allowed == (0,)
    mixed = recursion.screen(ARN, [None, at(15), at(3)], "Terminate")
    assert (mixed.allowed, mixed.stopped) == ((0, 2), (1,))
    # The invocation continues the longest chain it delivers: a batch cannot hide a loop.
    assert lineage_count(mixed.trace_header or "", "f") == 4
