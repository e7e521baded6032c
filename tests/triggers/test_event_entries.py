"""PutEvents' checks and the events EventBridge makes, as pure functions."""

from __future__ import annotations

import json

import pytest

from harness.triggers.event_entries import (
    MAX_REQUEST_BYTES,
    aws_event,
    bus_address,
    check_request,
    entry_error,
    entry_size,
    event_of,
    scheduled_event,
)
from harness.triggers.event_errors import EventsValidationError

GOOD = {"Source": "shop", "DetailType": "Order", "Detail": '{"n": 1}'}


@pytest.mark.parametrize(("change", "code", "message"), [
    ({"Source": ""}, "InvalidArgument",
     "Parameter Source is not valid. Reason: Source is a required argument."),
    ({"DetailType": None}, "InvalidArgument",
     "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
    ({"Detail": ""}, "InvalidArgument",
     "Parameter Detail is not valid. Reason: Detail is a required argument."),
    ({"Detail": "{not json"}, "MalformedDetail", "Detail is malformed."),
    ({"Detail": "[1, 2]"}, "MalformedDetail", "Detail is malformed."),
    ({"Detail": '"text"'}, "MalformedDetail", "Detail is malformed."),
    ({"Source": "aws.s3"}, "NotAuthorizedForSourceException", "Not authorized for the source."),
])
def test_entry_errors(change: dict, code: str, message: str) -> None:
    assert entry_error({**GOOD, **change}) == {"ErrorCode": code, "ErrorMessage": message}
    assert entry_error(GOOD) is None


def test_request_limits() -> None:
    check_request([GOOD] * 10)
    with pytest.raises(EventsValidationError) as refused:
        check_request([GOOD] * 11)
    assert refused.value.message.startswith("1 validation error detected: Value '[PutEvents"
                                            "RequestEntry(time=null, source=shop, ")
    assert refused.value.message.endswith("' at 'entries' failed to satisfy constraint: Member "
                                          "must have length less than or equal to 10")
    half = json.dumps({"x": "y" * (MAX_REQUEST_BYTES // 2)})
    with pytest.raises(EventsValidationError) as too_big:
        check_request([{**GOOD, "Detail": half}, {**GOOD, "Detail": half}])
    assert too_big.value.message == "Total size of the entries in the request is over the limit."


def test_entry_size_is_aws_documented_sum() -> None:
    entry = {"Time": 1, "Source": "é", "DetailType": "ab", "Detail": "{}",
             "Resources": ["r1", "r22"]}
    assert entry_size(entry) == 14 + 2 + 2 + 2 + 2 + 3


def test_event_shape() -> None:
    event = event_of({**GOOD, "Resources": ["arn:x"], "Time": 1767225600}, event_id="id-1",
                     account="123456789012", region="eu-west-1", now=0)
    assert event == {"version": "0", "id": "id-1", "detail-type": "Order", "source": "shop",
                     "account": "123456789012", "time": "2026-01-01T00:00:00Z",
                     "region": "eu-west-1", "resources": ["arn:x"], "detail": {"n": 1}}
    scheduled = scheduled_event(event_id="id-2", account="1", region="r",
                                rule_arn="arn:aws:events:r:1:rule/x", when=1767225600.7)
    assert scheduled["detail-type"] == "Scheduled Event" and scheduled["source"] == "aws.events"
    assert scheduled["time"] == "2026-01-01T00:00:00Z" and scheduled["detail"] == {}
    assert scheduled["resources"] == ["arn:aws:events:r:1:rule/x"]
    assert aws_event({"time": 1767225600.0, "ingestion-time": 5, "id": "m"}) == {
        "time": "2026-01-01T00:00:00Z", "id": "m"}


def test_bus_address() -> None:
    assert bus_address(None, "1", "r") == ("1", "r", "default")
    assert bus_address("orders", "1", "r") == ("1", "r", "orders")
    assert bus_address("arn:aws:events:eu-west-2:2:event-bus/orders", "1", "r") == \
        ("2", "eu-west-2", "orders")
