"""SQS's semantics on the indexed queues (harness.aws_state.sqs_index), through plain boto3
against the session emulator: visibility, delays, redrive, FIFO groups and deduplication, long
polls, attributes, the queue's counts, purge and delete, and many threads at once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_state.threads import run_together
from tests.triggers.sqs_support import make_queue, unique, wait_for


@pytest.fixture
def sqs(harness_client: Any) -> Any:
    return harness_client("sqs")


@pytest.fixture
def queues(sqs: Any) -> Iterator[Any]:
    """``queues(name, **attributes)`` -> (url, arn); the queues are deleted after the test."""
    made: list[str] = []

    def make(prefix: str, fifo: bool = False, **attributes: str) -> tuple[str, str]:
        name = unique(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        url, arn = make_queue(sqs, name, **attributes)
        made.append(url)
        return url, arn

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except sqs.exceptions.QueueDoesNotExist:
            pass


def receive(sqs: Any, url: str, count: int = 10, **kwargs: Any) -> list[dict[str, Any]]:
    kwargs.setdefault("MessageSystemAttributeNames", ["All"])
    reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, **kwargs)
    return list(reply.get("Messages", []))


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["Body"] for m in messages]


def counts(sqs: Any, url: str) -> tuple[int, int, int]:
    """(visible, in flight, delayed)."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return (int(got[names[0]]), int(got[names[1]]), int(got[names[2]]))


def send_many(sqs: Any, url: str, texts: list[str]) -> None:
    for start in range(0, len(texts), 10):
        reply = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": text} for i, text in enumerate(texts[start:start + 10])])
        assert not reply.get("Failed")


# -- visibility ----------------------------------------------------------------------------------
def test_a_received_message_is_hidden_until_its_visibility_timeout_ends(sqs: Any,
                                                                        queues: Any) -> None:
    url, _ = queues("vis", VisibilityTimeout="30")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (first,) = receive(sqs, url, VisibilityTimeout=1)
    assert receive(sqs, url) == []
    assert counts(sqs, url) == (0, 1, 0)
    again = wait_for(lambda: receive(sqs, url), "the message to be visible again")
    assert bodies(again) == ["m"]
    attributes = again[0]["Attributes"]
    assert attributes["ApproximateReceiveCount"] == "2"
    assert attributes["ApproximateFirstReceiveTimestamp"] == (
        first["Attributes"]["ApproximateFirstReceiveTimestamp"])
    assert again[0]["ReceiptHandle"] != first["ReceiptHandle"]
    assert counts(sqs, url) == (0, 1, 0)  # in flight for the queue's 30 s now


def test_change_message_visibility_shows_and_hides_messages(sqs: Any, queues: Any) -> None:
    url, _ = queues("chvis", VisibilityTimeout="300")
    send_many(sqs, url, ["a", "b", "c"])
    got = {m["Body"]: m for m in receive(sqs, url)}
    assert sorted(got) == ["a", "b", "c"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got["a"]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert bodies(receive(sqs, url)) == ["a"]  # visible at once
    reply = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "b", "ReceiptHandle": got["b"]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "c", "ReceiptHandle": got["c"]["ReceiptHandle"], "VisibilityTimeout": 600},
        {"Id": "bad", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 0}])
    assert sorted(e["Id"] for e in reply["Successful"]) == ["b", "c"]
    assert [(e["Id"], e["Code"]) for e in reply["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]
    assert bodies(receive(sqs, url)) == ["b"]
    assert counts(sqs, url) == (0, 3, 0)
    with pytest.raises(ClientError) as raised:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="not-a-handle",
                                      VisibilityTimeout=5)
    assert raised.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"


def test_delete_takes_the_message_once_and_refuses_unknown_handles(sqs: Any,
                                                                    queues: Any) -> None:
    url, _ = queues("del")
    send_many(sqs, url, ["a", "b"])
    a, b = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])  # again: not an error
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert raised.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    reply = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "b", "ReceiptHandle": b["ReceiptHandle"]},
        {"Id": "x", "ReceiptHandle": "not-a-handle"}])
    assert [e["Id"] for e in reply["Successful"]] == ["b"]
    assert [e["Code"] for e in reply["Failed"]] == ["ReceiptHandleIsInvalid"]
    assert counts(sqs, url) == (0, 0, 0)


# -- delays --------------------------------------------------------------------------------------
def test_queue_and_message_delays_hold_messages_back(sqs: Any, queues: Any) -> None:
    url, _ = queues("delay", DelaySeconds="1")
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="long-delay", DelaySeconds=900)
    assert counts(sqs, url) == (1, 0, 2)
    assert bodies(receive(sqs, url)) == ["no-delay"]
    # A long poll returns when the delay ends (nothing is sent to wake it).
    assert bodies(receive(sqs, url, WaitTimeSeconds=20)) == ["queue-delay"]
    assert counts(sqs, url) == (0, 2, 1)


def test_a_long_poll_returns_as_soon_as_a_message_arrives(sqs: Any, queues: Any) -> None:
    url, _ = queues("poll")
    began = time.monotonic()
    assert receive(sqs, url, WaitTimeSeconds=1) == []
    assert time.monotonic() - began >= 0.9  # an empty long poll waits its time out
    sender = threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    sender.start()
    began = time.monotonic()
    try:
        got = receive(sqs, url, WaitTimeSeconds=20)
    finally:
        sender.join()
    assert bodies(got) == ["late"]
    assert time.monotonic() - began < 15  # woken by the send, not by the 20 s wait's end


# -- redrive -------------------------------------------------------------------------------------
def test_a_message_received_max_receive_count_times_moves_to_the_dlq(sqs: Any,
                                                                      queues: Any) -> None:
    dlq_url, dlq_arn = queues("redrive-dlq")
    url, _ = queues("redrive-src", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    send_many(sqs, url, ["poison", "fine"])
    for attempt in ("1", "2"):
        got = receive(sqs, url, VisibilityTimeout=0)
        assert sorted(bodies(got)) == ["fine", "poison"]
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in got} == {attempt}
        fine = next(m for m in got if m["Body"] == "fine")
        if attempt == "2":
            sqs.delete_message(QueueUrl=url, ReceiptHandle=fine["ReceiptHandle"])
    assert receive(sqs, url) == []  # the third receive moved it
    assert counts(sqs, url) == (0, 0, 0)
    moved = receive(sqs, dlq_url)
    assert bodies(moved) == ["poison"]
    listed = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]
    assert url in listed


# -- FIFO ----------------------------------------------------------------------------------------
def test_a_fifo_group_with_a_message_in_flight_is_not_served(sqs: Any, queues: Any) -> None:
    url, _ = queues("groups", fifo=True, ContentBasedDeduplication="true")
    for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("c1", "c")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    (a1,) = receive(sqs, url, 1)
    assert a1["Body"] == "a1"
    got = receive(sqs, url)  # group a is in flight: b and c only
    assert bodies(got) == ["b1", "c1"]
    assert [m["Attributes"]["MessageGroupId"] for m in got] == ["b", "c"]
    assert receive(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
    assert bodies(receive(sqs, url)) == ["a2"]


def test_one_receive_serves_a_free_group_in_order_and_a_timeout_frees_it(sqs: Any,
                                                                          queues: Any) -> None:
    url, _ = queues("order", fifo=True, ContentBasedDeduplication="true")
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    got = receive(sqs, url, 3, VisibilityTimeout=1)
    assert bodies(got) == ["m0", "m1", "m2"]
    numbers = [int(m["Attributes"]["SequenceNumber"]) for m in got]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert receive(sqs, url) == []
    # The group's in-flight messages come back first, in order, when their timeout ends.
    again = wait_for(lambda: receive(sqs, url), "the group to be served again")
    assert bodies(again) == ["m0", "m1", "m2", "m3", "m4"]


def test_fifo_deduplication_content_based_and_explicit(sqs: Any, queues: Any) -> None:
    url, _ = queues("dedup", fifo=True, ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g",
                     MessageDeduplicationId="explicit")
    sqs.send_message(QueueUrl=url, MessageBody="other again", MessageGroupId="g",
                     MessageDeduplicationId="explicit")
    assert len(first["SequenceNumber"]) == 20
    got = receive(sqs, url)
    assert bodies(got) == ["same", "other"]
    assert got[1]["Attributes"]["MessageDeduplicationId"] == "explicit"
    for message in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # SQS remembers an id for five minutes, also after the message was deleted.
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="new", MessageGroupId="g")
    assert bodies(receive(sqs, url)) == ["new"]


def test_fifo_deduplication_by_message_group(sqs: Any, queues: Any) -> None:
    url, _ = queues("dedup-group", fifo=True, DeduplicationScope="messageGroup",
                    FifoThroughputLimit="perMessageGroupId")
    for group in ("a", "b", "a"):
        sqs.send_message(QueueUrl=url, MessageBody=f"to {group}", MessageGroupId=group,
                         MessageDeduplicationId="one-id")
    assert sorted(bodies(receive(sqs, url))) == ["to a", "to b"]


def test_a_fifo_message_needs_a_group_and_a_deduplication_id(sqs: Any, queues: Any) -> None:
    url, _ = queues("fifo-checks", fifo=True)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert raised.value.response["Error"]["Code"] == "MissingParameter"
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


# -- receive's parameters and attributes ---------------------------------------------------------
def test_max_number_of_messages_bounds_a_receive(sqs: Any, queues: Any) -> None:
    url, _ = queues("max")
    send_many(sqs, url, [f"m{i}" for i in range(15)])
    assert len(receive(sqs, url, 10)) == 10
    assert len(receive(sqs, url, 3)) == 3
    assert len(receive(sqs, url, 10)) == 2
    with pytest.raises(ClientError) as raised:
        receive(sqs, url, 11)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_message_and_system_attributes_are_returned_as_asked(sqs: Any, queues: Any) -> None:
    url, _ = queues("attrs", VisibilityTimeout="0")
    sent_before = int(time.time() * 1000) - 1000
    sent = sqs.send_message(QueueUrl=url, MessageBody="body", MessageAttributes={
        "Colour": {"DataType": "String", "StringValue": "red"},
        "Size": {"DataType": "Number", "StringValue": "3"},
        "Raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    (everything,) = receive(sqs, url, MessageAttributeNames=["All"])
    assert everything["MessageId"] == sent["MessageId"]
    assert everything["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert everything["MessageAttributes"]["Raw"]["BinaryValue"] == b"\x00\x01"
    assert sorted(everything["MessageAttributes"]) == ["Colour", "Raw", "Size"]
    attributes = everything["Attributes"]
    assert int(attributes["SentTimestamp"]) >= sent_before
    assert int(attributes["ApproximateFirstReceiveTimestamp"]) >= int(attributes["SentTimestamp"])
    assert attributes["ApproximateReceiveCount"] == "1" and attributes["SenderId"]
    (some,) = receive(sqs, url, MessageAttributeNames=["Colour"],
                      MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert list(some["MessageAttributes"]) == ["Colour"]
    assert some["Attributes"] == {"ApproximateReceiveCount": "2"}
    (bare,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert "MessageAttributes" not in bare and "Attributes" not in bare


# -- the queue -----------------------------------------------------------------------------------
def test_purge_and_delete_queue(sqs: Any, queues: Any) -> None:
    url, _ = queues("purge", VisibilityTimeout="300")
    send_many(sqs, url, [f"m{i}" for i in range(12)])
    receive(sqs, url, 2)
    assert counts(sqs, url) == (10, 2, 0)
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    assert receive(sqs, url) == []
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert bodies(receive(sqs, url)) == ["after"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as raised:
        receive(sqs, url)
    assert raised.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_a_deep_queue_is_drained_oldest_first_with_every_message_once(sqs: Any,
                                                                        queues: Any) -> None:
    url, _ = queues("deep", VisibilityTimeout="300")
    texts = [f"m{i:05d}" for i in range(2000)]
    send_many(sqs, url, texts)
    assert counts(sqs, url) == (2000, 0, 0)
    got: list[str] = []
    while True:
        batch = receive(sqs, url)
        if not batch:
            break
        got += bodies(batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    assert got == texts  # moto hands out the oldest visible first; so does the index
    assert counts(sqs, url) == (0, 0, 0)


def test_concurrent_senders_and_receivers_see_every_message_exactly_once(
        sqs: Any, queues: Any, harness_client: Any) -> None:
    url, _ = queues("threads", VisibilityTimeout="600")
    senders, receivers, per_sender = 4, 4, 250
    total = senders * per_sender
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def send(n: int) -> None:
        client = harness_client("sqs")
        send_many(client, url, [f"s{n}-{i}" for i in range(per_sender)])

    deadline = time.monotonic() + 240  # generous: a shared 2-core machine; a pass takes seconds

    def drain() -> None:
        client = harness_client("sqs")
        while time.monotonic() < deadline:
            with lock:
                if sum(seen.values()) >= total:
                    return
            batch = receive(client, url, WaitTimeSeconds=1)
            with lock:
                seen.update(bodies(batch))
            if batch:
                client.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(batch)])

    # the receivers give up at their deadline, before the join's 300 s
    assert run_together([partial(send, n) for n in range(senders)], [drain] * receivers,
                        300) == []
    assert len(seen) == total and set(seen.values()) == {1}
    assert counts(sqs, url) == (0, 0, 0)
