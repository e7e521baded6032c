"""The queue adapter (harness.aws_state.sqs_queues) against moto itself, in-process."""

from __future__ import annotations

import json
import threading
import time

import pytest
from moto.sqs.models import sqs_backends

from harness.aws_state import sqs_queues
from tests.triggers.sqs_support import unique

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(autouse=True)
def _installed() -> None:
    sqs_queues.install()  # as the triggers room does: the queue index and the trace header


def _backend():  # type: ignore[no-untyped-def]
    return sqs_backends[ACCOUNT][REGION]


def _queue(name: str, **attributes: str) -> str:
    return str(_backend().create_queue(name, **attributes).queue_arn)


def test_receive_hides_counts_and_copies_the_messages() -> None:
    arn = _queue(unique("adapter"), VisibilityTimeout="30")
    _backend().send_message(arn.split(":")[-1], "one", message_attributes={
        "A": {"DataType": "String", "StringValue": "x"}})
    (got,) = sqs_queues.receive(arn, 10, 0)
    assert (got.body, got.attributes["ApproximateReceiveCount"]) == ("one", "1")
    assert got.message_attributes == {"A": {"DataType": "String", "StringValue": "x"}}
    assert sqs_queues.receive(arn, 10, 0) == []  # hidden for the visibility timeout
    assert sqs_queues.delete(arn, [got.receipt_handle]) == 1
    assert sqs_queues.delete(arn, [got.receipt_handle]) == 0  # gone already: not an error
    assert sqs_queues.queue_facts(arn + "-missing") is None


def test_a_long_poll_returns_when_a_message_arrives() -> None:
    arn = _queue(unique("adapter-wait"))
    sender = threading.Timer(0.2, lambda: _backend().send_message(arn.split(":")[-1], "late"))
    sender.start()
    began = time.monotonic()
    try:
        got = sqs_queues.receive(arn, 10, 30)
    finally:
        sender.join()
    assert [m.body for m in got] == ["late"]
    assert time.monotonic() - began < 25  # woken by the send, not by the 30 s wait's end


def test_a_fifo_group_in_flight_is_not_handed_out_again() -> None:
    arn = _queue(unique("adapter") + ".fifo", FifoQueue="true", ContentBasedDeduplication="true")
    name = arn.split(":")[-1]
    for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        _backend().send_message(name, body, group_id=group)
    first = sqs_queues.receive(arn, 1, 0)
    assert [m.body for m in first] == ["a1"]
    assert [m.body for m in sqs_queues.receive(arn, 10, 0)] == ["b1"]  # a is in flight
    sqs_queues.delete(arn, [first[0].receipt_handle])
    assert [m.body for m in sqs_queues.receive(arn, 10, 0)] == ["a2"]


def test_in_flight_messages_move_to_the_dead_letter_queue_visible_or_are_dropped() -> None:
    dlq = _queue(unique("adapter-dlq"))
    arn = _queue(unique("adapter-src"), RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq, "maxReceiveCount": 3}))
    _backend().send_message(arn.split(":")[-1], "poison")
    (got,) = sqs_queues.receive(arn, 1, 0)
    assert sqs_queues.to_dead_letter_queue(arn, [got.receipt_handle]) == 1
    assert [m.body for m in sqs_queues.receive(dlq, 10, 0)] == ["poison"]
    lonely = _queue(unique("adapter-nodlq"))
    _backend().send_message(lonely.split(":")[-1], "dropped")
    (got,) = sqs_queues.receive(lonely, 1, 0)
    assert sqs_queues.to_dead_letter_queue(lonely, [got.receipt_handle]) == 0
    assert not _backend().get_queue(lonely.split(":")[-1])._messages


def test_released_messages_are_visible_again_at_once() -> None:
    arn = _queue(unique("adapter-release"), VisibilityTimeout="300")
    _backend().send_message(arn.split(":")[-1], "again")
    (got,) = sqs_queues.receive(arn, 1, 0)
    sqs_queues.release(arn, [got.receipt_handle])
    (again,) = sqs_queues.receive(arn, 1, 0)
    assert again.attributes["ApproximateReceiveCount"] == "2"
