"""The SQS event's formats and AWS's mapping checks, without sockets."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from harness.aws_state.event_source_mappings import MappingRequest
from harness.aws_state.sqs_queues import QueueFacts, QueueMessage
from harness.errors import AwsError
from harness.triggers.sqs_records import (
    failed_item_ids,
    filter_view,
    message_attribute,
    sqs_record,
)
from harness.triggers.sqs_rules import check_mapping

IDS = {"a", "b", "c"}


@pytest.mark.parametrize("reply, failed", [
    (b"", set()), (b"null", set()), (b"{}", set()), (b'{"batchItemFailures": null}', set()),
    (b'{"batchItemFailures": []}', set()),
    (b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"b"}),
    (b'{"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}', {"a", "c"}),
])
def test_a_readable_partial_batch_reply_names_the_failed_messages(reply: bytes,
                                                                  failed: set[str]) -> None:
    assert failed_item_ids(reply, IDS) == failed


@pytest.mark.parametrize("reply", [
    b"{not json", b'"ok"', b"[1]", b'{"batchItemFailures": {"itemIdentifier": "a"}}',
    b'{"batchItemFailures": [{"foo": "notvalid"}]}',
    b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
    b'{"batchItemFailures": [{"itemIdentifier": null}]}',
    b'{"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}',
])
def test_an_unreadable_partial_batch_reply_fails_the_whole_batch(reply: bytes) -> None:
    assert failed_item_ids(reply, IDS) is None


def test_message_attributes_take_lambdas_shape() -> None:
    assert message_attribute({"DataType": "Binary", "BinaryValue": b"\xff"}) == {
        "binaryValue": "/w==", "stringListValues": [], "binaryListValues": [],
        "dataType": "Binary"}
    assert message_attribute({"DataType": "Number.int", "StringValue": "7"})["stringValue"] == "7"


FIFO_MESSAGE = QueueMessage(
    message_id="id-1", receipt_handle="rh", body='{"k": 1}', md5_of_body="m",
    md5_of_attributes=None, attributes={
        "MessageDeduplicationId": "d", "MessageGroupId": "g", "SequenceNumber": "1",
        "SenderId": "S", "SentTimestamp": "10", "ApproximateReceiveCount": "2",
        "ApproximateFirstReceiveTimestamp": "11", "AWSTraceHeader": "Root=1-a-b"})


def test_a_fifo_record_lists_its_attributes_in_lambdas_order() -> None:
    record = sqs_record(FIFO_MESSAGE, "arn:aws:sqs:eu-west-1:1:q.fifo", "eu-west-1")
    assert list(record["attributes"]) == [
        "ApproximateReceiveCount", "AWSTraceHeader", "SentTimestamp", "SenderId",
        "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageGroupId",
        "MessageDeduplicationId"]
    assert record["md5OfMessageAttributes"] is None and record["messageAttributes"] == {}
    assert record["awsRegion"] == "eu-west-1"


def test_filters_see_a_json_body_as_json_and_text_as_text() -> None:
    record = sqs_record(FIFO_MESSAGE, "arn", "r")
    assert filter_view(record)["body"] == {"k": 1}
    assert filter_view({**record, "body": "plain"})["body"] == "plain"
    assert record["body"] == '{"k": 1}'  # the delivered record keeps its text


QUEUE = QueueFacts(arn="arn:aws:sqs:us-east-1:123456789012:q", name="q",
                   account_id="123456789012", region="us-east-1", fifo=False,
                   visibility_timeout_s=30, dead_letter_arn=None)
REQUEST = MappingRequest(
    creating=True, queue_arn=QUEUE.arn, queue=QUEUE, function_name="f",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:f", function_timeout_s=3,
    batch_size=None, window_s=None, filter_criteria=None, scaling_config=None,
    duplicate_of=None)


def _refusal(**changes: Any) -> tuple[str, int, str]:
    with pytest.raises(AwsError) as caught:
        check_mapping(replace(REQUEST, **changes))
    return caught.value.code, caught.value.status, caught.value.message


def test_a_plain_mapping_passes() -> None:
    check_mapping(REQUEST)
    check_mapping(replace(REQUEST, batch_size=10_000, window_s=300,
                          scaling_config={"MaximumConcurrency": 1000}, filter_criteria={
                              "Filters": [{"Pattern": json.dumps({"body": {"a": [1]}})}]}))


def test_batch_sizes_and_windows_are_checked_as_aws_does() -> None:
    assert _refusal(batch_size=11)[2].startswith("Maximum batch window in seconds must be")
    assert _refusal(batch_size=10_001) == (
        "ValidationException", 400, "1 validation error detected: Value '10001' at "
        "'batchSize' failed to satisfy constraint: Member must have value less than or equal "
        "to 10000")
    assert _refusal(batch_size=0)[0] == "ValidationException"
    assert _refusal(window_s=301)[0] == "ValidationException"
    fifo = replace(QUEUE, fifo=True)
    assert _refusal(queue=fifo, window_s=1)[2] == "Batching window is not supported for FIFO queues"
    assert _refusal(queue=fifo, batch_size=11)[2].startswith("Maximum batch window")


def test_queue_function_filters_and_duplicates_are_checked() -> None:
    assert _refusal(queue=None)[2].startswith("Error occurred while ReceiveMessage.")
    assert _refusal(function_timeout_s=31) == (
        "InvalidParameterValueException", 400,
        "Queue visibility timeout: 30 seconds is less than Function timeout: 31 seconds")
    assert _refusal(filter_criteria={"Filters": [{"Pattern": "[]"}]})[2] == (
        "Invalid filter pattern definition.")
    assert _refusal(scaling_config={"MaximumConcurrency": 1001})[0] == "ValidationException"
    code, status, message = _refusal(duplicate_of="uuid-1")
    assert (code, status) == ("ResourceConflictException", 409)
    assert message == ('An event source mapping with SQS arn (" arn:aws:sqs:us-east-1:'
                       '123456789012:q ") and function (" f ") already exists. Please update '
                       "or delete the existing mapping with UUID uuid-1")
    check_mapping(replace(REQUEST, creating=False, duplicate_of="uuid-1"))  # an update
