"""The SQS queue index (harness.aws_state.sqs_index, sqs_message_index) against moto itself,
in-process: what HTTP cannot reach (time moved, the index switched off and on) and many threads
at once."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from moto.sqs.models import Message, sqs_backends

from harness.aws_state import sqs_index
from harness.aws_state.sqs_message_index import COMPACT_SLACK, QueueIndex
from tests.aws_state.threads import run_together
from tests.triggers.sqs_support import unique

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(autouse=True)
def _installed() -> None:
    sqs_index.install()


@pytest.fixture
def backend() -> Iterator[Any]:
    made = sqs_backends[ACCOUNT][REGION]
    before = set(made.queues)
    yield made
    for name in set(made.queues) - before:
        made.delete_queue(name)


def _message(body: str, dedup: str, sent_ms: float, group: str = "g") -> Message:
    message = Message(body, body)
    message.deduplication_id, message.group_id = dedup, group
    message.sent_timestamp = int(sent_ms)  # type: ignore[assignment]
    return message


def test_a_deduplication_id_is_forgotten_five_minutes_after_it_was_accepted() -> None:
    index = QueueIndex(fifo=True)
    start = time.time() * 1000
    assert not index.duplicate(_message("a", "id", start), by_group=False)
    assert index.duplicate(_message("b", "id", start + 299_000), by_group=False)
    assert not index.duplicate(_message("c", "other", start + 299_000), by_group=False)
    assert not index.duplicate(_message("d", "id", start + 300_000), by_group=False)
    assert index.duplicate(_message("e", "id", start + 300_001), by_group=False)
    # per message group: the same id in another group is another message
    assert not index.duplicate(_message("f", "id", start + 300_002, "h"), by_group=True)


def test_a_message_past_retention_is_deleted_not_received(backend: Any) -> None:
    name = unique("retention")
    queue = backend.create_queue(name, MessageRetentionPeriod="60")
    old = backend.send_message(name, "old")
    backend.send_message(name, "new")
    old.sent_timestamp -= 61_000  # as if sent 61 s ago: its retention period is over
    got = backend.receive_message(name, 10, 0, 30, [])
    assert [m.body for m in got] == ["new"]
    assert (queue.approximate_number_of_messages,
            queue.approximate_number_of_messages_not_visible) == (0, 1)


def test_the_index_can_be_switched_off_and_on_keeping_every_message(backend: Any) -> None:
    name = unique("switch")
    queue = backend.create_queue(name, VisibilityTimeout="300")
    for body in ("a", "b", "c"):
        backend.send_message(name, body)
    (a,) = backend.receive_message(name, 1, 0, 300, [])
    sqs_index.uninstall()
    try:
        assert not sqs_index.installed()
        assert "_harness_sqs_index" not in vars(queue)
        assert [m.body for m in queue._messages] == ["a", "b", "c"]  # moto's own list
        (b,) = backend.receive_message(name, 1, 0, 300, [])  # moto's own receive
        assert b.body == "b"
    finally:
        sqs_index.install()
    assert (queue.approximate_number_of_messages,
            queue.approximate_number_of_messages_not_visible) == (1, 2)
    backend.delete_message(name, a.receipt_handle)
    backend.delete_message(name, b.receipt_handle)
    assert [m.body for m in backend.receive_message(name, 10, 0, 300, [])] == ["c"]


def test_heaps_stay_the_size_of_the_queue_under_churn(backend: Any) -> None:
    name = unique("churn")
    queue = backend.create_queue(name, VisibilityTimeout="3600")
    for round_ in range(60):
        for i in range(100):
            backend.send_message(name, f"{round_}-{i}")
        for _ in range(10):
            for message in backend.receive_message(name, 10, 0, 3600, []):
                backend.delete_message(name, message.receipt_handle)
    with queue._messages_lock:
        index = sqs_index.index_of(queue)
        assert len(index.entries) == 0
        # Deleted messages' visibility times would stay an hour; they are compacted away.
        assert index._items <= COMPACT_SLACK


def test_fifo_groups_under_many_threads_are_served_once_each_and_in_order(backend: Any) -> None:
    name = unique("fifo-threads") + ".fifo"
    queue = backend.create_queue(name, FifoQueue="true", ContentBasedDeduplication="true",
                                 VisibilityTimeout="600")
    senders, per_sender, groups = 4, 300, 12
    total = senders * per_sender
    received: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + 120  # generous: a shared 2-core machine; a pass takes ~1 s

    def send(n: int) -> None:
        for i in range(per_sender):
            backend.send_message(name, f"{n}:{i}", group_id=f"g{(n * per_sender + i) % groups}")

    def drain() -> None:
        while time.monotonic() < deadline:
            with lock:
                if sum(len(v) for v in received.values()) >= total:
                    return
            got = sqs_index.receive(queue, 10, 0.2, 600, ["All"])
            with lock:  # recorded before the delete frees the group
                for message in got:
                    n, i = message.body.split(":")
                    received[f"{message.group_id}/{n}"].append(int(i))
            for message in got:
                backend.delete_message(name, message.receipt_handle)

    # the receivers give up at their deadline, before the join's 180 s
    assert run_together([partial(send, n) for n in range(senders)], [drain] * 4, 180) == []
    assert sum(len(v) for v in received.values()) == total
    # One sender's messages of one group were sent in order: they come out in order, once.
    assert all(order == sorted(set(order)) for order in received.values())
    assert (queue.approximate_number_of_messages,
            queue.approximate_number_of_messages_not_visible) == (0, 0)
