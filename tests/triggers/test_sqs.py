"""SQS event source mappings through the session emulator, with plain boto3: batches, partial
failures and the dead-letter queue, FIFO order, filters, states, concurrency and AWS's checks."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.emulator import Emulator
from tests.triggers.sqs_support import (
    CONSUMER,
    Mappings,
    assert_partial_failures,
    logged,
    make_queue,
    queue_empty,
    records_logged,
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
    # After create_function: the mappings go first, then the functions.
    made = Mappings(lambda_client)
    yield made
    made.delete_all()


def consumer(create_function: Any, timeout: int = 3, **env: str) -> str:
    return create_function({"app.py": CONSUMER}, Timeout=timeout,
                           Environment={"Variables": env})


def test_messages_sent_before_the_mapping_are_delivered_in_batches_of_at_most_batch_size(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any) -> None:
    name = consumer(create_function)
    url, arn = make_queue(sqs, unique("before"))
    bodies = [f"m-{i}" for i in range(23)]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=5)
    wait_for(lambda: len(records_logged(logs, name)) >= len(bodies), "23 messages delivered")
    wait_for(lambda: queue_empty(sqs, url), "the queue to be empty")
    batches = logged(logs, name, "BATCH")
    assert all(1 <= len(batch["records"]) <= 5 for batch in batches)
    assert sorted(r["body"] for r in records_logged(logs, name)) == sorted(bodies)


def test_partial_batch_failures_reach_the_dlq_and_every_other_message_is_processed_once(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any) -> None:
    name = consumer(create_function)
    dlq_url, dlq_arn = make_queue(sqs, unique("partial-dlq"))
    url, arn = make_queue(sqs, unique("partial"), VisibilityTimeout="3", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    good = [f"good-{i}" for i in range(17)]
    bad = [f"bad-{i}" for i in range(3)]
    for body in good + bad:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=4,
                    FunctionResponseTypes=["ReportBatchItemFailures"])
    assert_partial_failures(sqs, logs, name, (url, dlq_url), good, bad)


def test_a_function_error_leaves_the_batch_to_come_back_after_the_visibility_timeout(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any) -> None:
    name = consumer(create_function, timeout=2)
    url, arn = make_queue(sqs, unique("retry"), VisibilityTimeout="2")
    sqs.send_message(QueueUrl=url, MessageBody="raise-first-1")
    mappings.create(EventSourceArn=arn, FunctionName=name)
    wait_for(lambda: len(logged(logs, name, "DONE")) == 1, "the second attempt to succeed")
    wait_for(lambda: queue_empty(sqs, url), "the queue to be empty")
    attempts = records_logged(logs, name)
    assert [r["count"] for r in attempts] == ["1", "2"]
    assert attempts[0]["id"] == attempts[1]["id"]


def test_the_record_has_lambdas_sqs_shape(create_function: Any, mappings: Mappings,
                                          sqs: Any, logs: Any) -> None:
    name = consumer(create_function, LOG_EVENT="1")
    url, arn = make_queue(sqs, unique("shape"))
    sent = sqs.send_message(QueueUrl=url, MessageBody='{"hello": "world"}', MessageAttributes={
        "Title": {"DataType": "String", "StringValue": "The Whistler"},
        "WeeksOn": {"DataType": "Number", "StringValue": "6"},
        "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    mappings.create(EventSourceArn=arn, FunctionName=name)
    (event,) = wait_for(lambda: logged(logs, name, "EVENT"), "the event")
    (record,) = event["Records"]  # one invocation, by our poller: never moto's per-send path
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes",
                           "messageAttributes", "md5OfMessageAttributes", "md5OfBody",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == '{"hello": "world"}'
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs", arn, "us-east-1")
    assert set(record["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp",
                                         "SenderId", "ApproximateFirstReceiveTimestamp"}
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SenderId"] != "AIDAIENQZJOLO23YVJ4VO"  # moto's made-up one
    assert int(record["attributes"]["ApproximateFirstReceiveTimestamp"]) >= int(
        record["attributes"]["SentTimestamp"])
    assert record["messageAttributes"] == {
        "Title": {"stringValue": "The Whistler", "stringListValues": [],
                  "binaryListValues": [], "dataType": "String"},
        "WeeksOn": {"stringValue": "6", "stringListValues": [], "binaryListValues": [],
                    "dataType": "Number"},
        "Blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [],
                 "dataType": "Binary"}}


def test_a_disabled_mapping_takes_nothing_and_takes_up_again_when_enabled(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any,
        lambda_client: Any) -> None:
    name = consumer(create_function)
    url, arn = make_queue(sqs, unique("toggle"))
    created = mappings.create(EventSourceArn=arn, FunctionName=name)
    assert created["State"] == "Creating"
    mappings.wait_state(created["UUID"], "Enabled")
    sqs.send_message(QueueUrl=url, MessageBody="while-enabled")
    wait_for(lambda: records_logged(logs, name), "the first message")
    update = lambda_client.update_event_source_mapping(UUID=created["UUID"], Enabled=False)
    assert update["State"] == "Disabling"
    mappings.wait_state(created["UUID"], "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody="while-disabled")
    assert lambda_client.update_event_source_mapping(
        UUID=created["UUID"], Enabled=True)["State"] == "Enabling"
    mappings.wait_state(created["UUID"], "Enabled")
    wait_for(lambda: len(records_logged(logs, name)) == 2, "the message sent while disabled")
    late = records_logged(logs, name)[1]
    # Never received while the mapping was disabled: this is its first receive.
    assert (late["body"], late["count"]) == ("while-disabled", "1")


def test_fifo_order_is_kept_per_message_group(create_function: Any, mappings: Mappings,
                                              sqs: Any, logs: Any) -> None:
    name = consumer(create_function, SLEEP_S="0.05")
    url, arn = make_queue(sqs, unique("order") + ".fifo", FifoQueue="true",
                          ContentBasedDeduplication="true")
    sent: dict[str, list[str]] = defaultdict(list)
    for i in range(8):
        for group in ("a", "b", "c"):
            body = f"{group}-{i}"
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
            sent[group].append(body)
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=3)
    wait_for(lambda: len(records_logged(logs, name)) >= 24, "24 FIFO messages")
    batches = sorted(logged(logs, name, "BATCH"), key=lambda b: b["start"])
    ends = {done["request"]: done["end"] for done in logged(logs, name, "DONE")}
    delivered: dict[str, list[str]] = defaultdict(list)
    busy_until: dict[str, float] = {}
    for batch in batches:
        for record in batch["records"]:
            group = record["group"]
            assert batch["start"] >= busy_until.get(group, 0.0), f"group {group} overlapped"
            delivered[group].append(record["body"])
        for group in {r["group"] for r in batch["records"]}:
            busy_until[group] = ends[batch["request"]]
    assert dict(delivered) == dict(sent)


def test_filter_criteria_deliver_what_matches_and_delete_the_rest(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any) -> None:
    name = consumer(create_function)
    url, arn = make_queue(sqs, unique("filter"))
    for body in ('{"kind": "keep", "n": 1}', '{"kind": "drop", "n": 2}', "plain text",
                 '{"kind": "keep", "n": 3}'):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mappings.create(EventSourceArn=arn, FunctionName=name, FilterCriteria={"Filters": [
        {"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]})
    wait_for(lambda: queue_empty(sqs, url), "every message to be delivered or deleted")
    delivered = sorted(json.loads(r["body"])["n"] for r in records_logged(logs, name))
    assert delivered == [1, 3]


def test_maximum_concurrency_bounds_the_concurrent_invocations(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any) -> None:
    name = consumer(create_function, SLEEP_S="0.3")
    url, arn = make_queue(sqs, unique("bounded"))
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"slow-{i}")
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=1,
                    ScalingConfig={"MaximumConcurrency": 2})
    wait_for(lambda: len(logged(logs, name, "DONE")) >= 12, "12 invocations")
    starts = {b["request"]: b["start"] for b in logged(logs, name, "BATCH")}
    ends = {d["request"]: d["end"] for d in logged(logs, name, "DONE")}
    moments = sorted([(t, 1) for t in starts.values()] + [(t, -1) for t in ends.values()])
    running, most = 0, 0
    for _, step in moments:
        running += step
        most = max(most, running)
    assert most == 2


def test_a_mapping_made_by_cloudformation_is_polled(harness_client: Any, sqs: Any,
                                                    logs: Any) -> None:
    cfn, lam = harness_client("cloudformation"), harness_client("lambda")
    stack = unique("esm-stack")
    template = {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": stack}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.11", "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": CONSUMER}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "FunctionName": {"Ref": "Fn"}, "BatchSize": 2}}}}
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    try:
        function = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Fn")[
            "StackResourceDetail"]["PhysicalResourceId"]
        (mapping,) = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
        assert mapping["State"] in ("Creating", "Enabled")
        url = sqs.get_queue_url(QueueName=stack)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="from-a-stack")
        wait_for(lambda: records_logged(logs, function), "the stack's function to run")
        assert records_logged(logs, function)[0]["body"] == "from-a-stack"
    finally:
        cfn.delete_stack(StackName=stack)
    assert not lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]


def _refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    error: dict[str, Any] = caught.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"],
            "Status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_create_refuses_what_aws_refuses_with_its_messages(
        create_function: Any, mappings: Mappings, sqs: Any, harness_client: Any) -> None:
    name = consumer(create_function, timeout=60)
    lam = harness_client("lambda", config=Config(parameter_validation=False,
                                                 retries={"total_max_attempts": 1}))
    url, arn = make_queue(sqs, unique("checks"), VisibilityTimeout="30")
    _, fifo = make_queue(sqs, unique("checks") + ".fifo", FifoQueue="true",
                         VisibilityTimeout="60")
    assert _refused(lambda: lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name)) == {
        "Code": "InvalidParameterValueException", "Status": 400,
        "Message": "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60"})
    assert _refused(lambda: lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=100))["Message"] == (
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
        "greater than 10")
    assert _refused(lambda: lam.create_event_source_mapping(
        EventSourceArn=fifo, FunctionName=name, MaximumBatchingWindowInSeconds=5))[
        "Message"] == "Batching window is not supported for FIFO queues"
    for pattern in ("null", "simple string", '{"eventSource": "aws:sqs"}', '{"body": []}'):
        assert _refused(lambda p=pattern: lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=name, FilterCriteria={"Filters": [{"Pattern": p}]}
        ))["Message"] == "Invalid filter pattern definition."
    assert _refused(lambda: lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, ScalingConfig={"MaximumConcurrency": 1})) == {
        "Code": "ValidationException", "Status": 400,
        "Message": "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency'"
                   " failed to satisfy constraint: Member must have value greater than or "
                   "equal to 2"}
    assert _refused(lambda: lam.create_event_source_mapping(
        EventSourceArn=arn + "-missing", FunctionName=name))["Message"] == (
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
        "The specified queue does not exist.")
    first = mappings.create(EventSourceArn=arn, FunctionName=name, Enabled=False)
    assert first["State"] == "Disabled"
    duplicate = _refused(lambda: lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name))
    assert (duplicate["Code"], duplicate["Status"]) == ("ResourceConflictException", 409)
    assert duplicate["Message"].endswith(f"existing mapping with UUID {first['UUID']}")
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"][0][
        "State"] == "Disabled"


MISSING = "00000000-0000-4000-8000-000000000000"


def test_unknown_mapping_ids_are_not_found(lambda_client: Any) -> None:
    for call in (lambda: lambda_client.get_event_source_mapping(UUID=MISSING),
                 lambda: lambda_client.update_event_source_mapping(UUID=MISSING,
                                                                   Enabled=False),
                 lambda: lambda_client.delete_event_source_mapping(UUID=MISSING)):
        assert _refused(call)["Code"] == "ResourceNotFoundException"


def test_a_batch_window_gathers_more_than_ten_messages_into_one_invocation(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any) -> None:
    name = consumer(create_function)
    url, arn = make_queue(sqs, unique("window"))
    for start in range(0, 30, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"w-{start + i}"} for i in range(10)])
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=25,
                    MaximumBatchingWindowInSeconds=1)
    wait_for(lambda: len(records_logged(logs, name)) >= 30, "30 messages")
    sizes = [len(batch["records"]) for batch in logged(logs, name, "BATCH")]
    assert max(sizes) == 25 and sum(sizes) == 30


def test_a_throttled_batch_is_tried_again_not_lost(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any,
        lambda_client: Any) -> None:
    name = consumer(create_function, SLEEP_S="0.2")
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    url, arn = make_queue(sqs, unique("throttled"))
    for i in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"t-{i}")
    mappings.create(EventSourceArn=arn, FunctionName=name, BatchSize=1,
                    ScalingConfig={"MaximumConcurrency": 3})
    wait_for(lambda: queue_empty(sqs, url), "the queue to be empty")
    records = records_logged(logs, name)
    assert sorted(r["body"] for r in records) == [f"t-{i}" for i in range(6)]
    # Throttles are retried by the poller: no message went back to the queue for them.
    assert {r["count"] for r in records} == {"1"}


def _pollers_of(uuid: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"sqs-mapping-{uuid[:8]}")]


def test_deleting_a_mapping_or_resetting_the_source_stops_its_pollers(
        create_function: Any, mappings: Mappings, sqs: Any, lambda_client: Any,
        harness_emulator: Any) -> None:
    name = consumer(create_function)
    _, arn = make_queue(sqs, unique("stop"))
    first = mappings.create(EventSourceArn=arn, FunctionName=name)["UUID"]
    wait_for(lambda: _pollers_of(first), "pollers to start")
    lambda_client.delete_event_source_mapping(UUID=first)
    wait_for(lambda: not _pollers_of(first), "the deleted mapping's pollers to stop")
    second = mappings.create(EventSourceArn=arn, FunctionName=name)["UUID"]
    wait_for(lambda: _pollers_of(second), "pollers to start")
    harness_emulator.triggers.sqs.reset()  # what the emulator's reset does first
    wait_for(lambda: not _pollers_of(second), "pollers to stop on reset")


def test_only_the_newest_emulator_of_the_process_polls(
        create_function: Any, mappings: Mappings, sqs: Any, logs: Any, harness_emulator: Any,
        harness_config: Any) -> None:
    name = consumer(create_function)
    url, arn = make_queue(sqs, unique("handover"))
    uuid = mappings.create(EventSourceArn=arn, FunctionName=name)["UUID"]
    session = harness_emulator.triggers.sqs
    assert session.stats(uuid) is not None
    # moto's state is the process's: a second emulator takes the polling over, then gives it
    # back, so no mapping is ever polled twice.
    with Emulator(harness_config.with_overrides(port=0)) as newer:
        assert session.stats(uuid) is None and newer.triggers.sqs.stats(uuid) is not None
        sqs.send_message(QueueUrl=url, MessageBody="to-the-newer")
        wait_for(lambda: records_logged(logs, name), "the newer emulator to deliver")
    assert session.stats(uuid) is not None
    sqs.send_message(QueueUrl=url, MessageBody="back-to-the-session")
    wait_for(lambda: len(records_logged(logs, name)) == 2, "the session to deliver again")
    assert [r["body"] for r in records_logged(logs, name)] == ["to-the-newer",
                                                                "back-to-the-session"]
