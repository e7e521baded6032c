"""Asynchronous invocation's delays and records, as pure functions."""

from __future__ import annotations

import pytest

from harness.triggers.async_records import (
    EVENT_AGE_EXCEEDED,
    SUCCESS,
    ZERO_RESERVED_CONCURRENCY,
    Attempt,
    dead_letter_attributes,
    destination_record,
    event_detail_type,
    failure_object_key,
    may_retry_within,
    retry_delay,
    throttle_delay,
    timestamp,
)


def test_function_errors_wait_one_then_two_minutes() -> None:
    assert [retry_delay(n) for n in (1, 2)] == [60.0, 120.0]


def test_throttles_back_off_from_one_second_to_five_minutes() -> None:
    assert [throttle_delay(n) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]


@pytest.mark.parametrize(("elapsed", "delay", "age", "retried"), [
    (0.0, 60, 60, True),       # nothing spent yet: the retry falls on the age, still within
    (0.001, 60, 60, False),    # any part of a second counts as a second: too late
    (0.5, 60, 90, True),
    (61.2, 120, 90, False),
    (30.0, 60, 21600, True),
])
def test_a_retry_must_fall_within_the_events_age(elapsed, delay, age, retried) -> None:
    assert may_retry_within(elapsed, delay, age) is retried


def test_records_carry_utc_milliseconds_and_no_response_when_unrun() -> None:
    assert timestamp(1583791313.0759) == "2020-03-09T22:01:53.075Z"
    record = destination_record(request_id="r", function_arn="arn:f:$LATEST",
                                condition=EVENT_AGE_EXCEEDED, invoke_count=0,
                                request_payload=b"", attempt=None, when=0.0)
    assert record == {"version": "1.0", "timestamp": "1970-01-01T00:00:00.000Z",
                      "requestContext": {"requestId": "r", "functionArn": "arn:f:$LATEST",
                                         "condition": EVENT_AGE_EXCEEDED,
                                         "approximateInvokeCount": 0},
                      "requestPayload": {}}
    ran = destination_record(request_id="r", function_arn="a", condition=SUCCESS,
                             invoke_count=1, request_payload=b"[1]",
                             attempt=Attempt(b"null", "3", None), when=0.0)
    assert ran["responseContext"] == {"statusCode": 200, "executedVersion": "3"}
    assert ran["responsePayload"] is None and ran["requestPayload"] == [1]


def test_dead_letter_attributes_say_why() -> None:
    failed = Attempt(('{"errorMessage": "' + "é" * 600 + '"}').encode(), "$LATEST", "Unhandled")
    attributes = dead_letter_attributes("r", EVENT_AGE_EXCEEDED, failed, throttled=False)
    assert attributes["ErrorCode"] == ("Number", "200")
    message = attributes["ErrorMessage"][1]
    assert len(message.encode()) <= 1024 and message == "é" * 512  # cut at 1 KB, whole chars
    assert dead_letter_attributes("r", EVENT_AGE_EXCEEDED, failed, throttled=True)[
        "ErrorCode"] == ("Number", "429")
    assert set(dead_letter_attributes("r", ZERO_RESERVED_CONCURRENCY, None, False)) == {
        "RequestID", "ErrorMessage"}


def test_eventbridge_and_s3_names() -> None:
    assert event_detail_type(SUCCESS) == "Lambda Function Invocation Result - Success"
    assert event_detail_type(EVENT_AGE_EXCEEDED) == "Lambda Function Invocation Result - Failure"
    assert failure_object_key("fn", 0.0, "id") == (
        "aws/lambda/async/fn/1970/01/01/1970-01-01T00.00.00-id")
