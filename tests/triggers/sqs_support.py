"""Helpers for the SQS event source mapping tests: queues, mappings that are deleted after the
test (so no poller outlives it), and reading what the functions logged."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from harness.triggers import recursion

_names = itertools.count()
DEADLINE_S = 90.0
"""How long a test waits for deliveries: generous, as this machine is shared (cold starts of
several environments at once took seconds on a slow day); a pass usually takes a few seconds."""

CONSUMER = '''
import json, os, time
def handler(event, context):
    started = time.time()
    records = event["Records"]
    print("BATCH " + json.dumps({
        "request": context.aws_request_id, "start": started,
        "records": [{"id": r["messageId"], "body": r["body"],
                     "count": r["attributes"]["ApproximateReceiveCount"],
                     "group": r["attributes"].get("MessageGroupId")} for r in records]}))
    if os.environ.get("LOG_EVENT"):
        print("EVENT " + json.dumps(event))
    for r in records:
        first = r["attributes"]["ApproximateReceiveCount"] == "1"
        if r["body"].startswith("raise-first") and first:
            raise RuntimeError("first attempt fails: " + r["body"])
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
    print("DONE " + json.dumps({"request": context.aws_request_id, "end": time.time()}))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records
                                  if r["body"].startswith("bad")]}
'''

# Sends its event back to the queue that triggers it: a recursive loop (tests of its stop).
LOOPER = '''
import json, os, boto3
sqs = boto3.client("sqs")  # AWS_ENDPOINT_URL: the harness
def handler(event, context):
    for r in event["Records"]:
        hops = json.loads(r["body"])["hops"]
        print("LOOP " + json.dumps({"hops": hops, "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                                    "received": r["attributes"].get("AWSTraceHeader")}))
        if hops + 1 < int(os.environ.get("STOP_AT", "1000")):
            sqs.send_message(QueueUrl=os.environ["QUEUE_URL"],
                             MessageBody=json.dumps({"hops": hops + 1}))
'''


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{int(time.time() * 1000) % 100000}"


def make_queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    """(url, arn) of a new queue."""
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def wait_for(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"waited {deadline_s:.0f} s for {what}")
        time.sleep(0.1)


def logged(logs: Any, function: str, prefix: str) -> list[dict[str, Any]]:
    """Every ``<prefix> {json}`` line the function printed so far, in time order."""
    lines: list[tuple[int, dict[str, Any]]] = []
    kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{function}"}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return []
        for event in page["events"]:
            if event["message"].startswith(prefix + " "):
                lines.append((event["timestamp"],
                              json.loads(event["message"][len(prefix) + 1:])))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]


def records_logged(logs: Any, function: str) -> list[dict[str, Any]]:
    return [record for batch in logged(logs, function, "BATCH") for record in batch["records"]]


def queue_empty(sqs: Any, url: str) -> bool:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (attributes["ApproximateNumberOfMessages"] == "0"
            and attributes["ApproximateNumberOfMessagesNotVisible"] == "0")


def drain(sqs: Any, url: str, expected: int) -> list[dict[str, Any]]:
    """Receive (and delete) ``expected`` messages from a queue, waiting for them."""
    got: list[dict[str, Any]] = []

    def more() -> bool:
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    MessageSystemAttributeNames=["All"],
                                    MessageAttributeNames=["All"])
        for message in reply.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(got) >= expected

    wait_for(more, f"{expected} message(s) in {url}")
    return got


class Mappings:
    """Event source mappings made by one test, all deleted when it ends (their pollers stop)."""

    def __init__(self, lambda_client: Any) -> None:
        self._client = lambda_client
        self.made: list[str] = []

    def create(self, **kwargs: Any) -> dict[str, Any]:
        reply: dict[str, Any] = self._client.create_event_source_mapping(**kwargs)
        self.made.append(reply["UUID"])
        return reply

    def wait_state(self, uuid: str, state: str) -> None:
        wait_for(lambda: self._client.get_event_source_mapping(UUID=uuid)["State"] == state,
                 f"mapping {uuid} to be {state}")

    def delete_all(self) -> None:
        for uuid in self.made:
            try:
                self._client.delete_event_source_mapping(UUID=uuid)
            except self._client.exceptions.ResourceNotFoundException:
                pass


def lineage_count(header: str, function: str) -> int:
    """How many times the trace header's lineage counts the function (us-east-1's)."""
    key = recursion.function_key(f"arn:aws:lambda:us-east-1:123456789012:function:{function}")
    return recursion.parse_lineage(recursion.parse_header(header)["Lineage"])[key]


def starts(logs: Any, name: str) -> list[str]:
    """The request ids of the function's runs, from its START lines."""
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"].split()[2] for e in events if e["message"].startswith("START ")]


def assert_partial_failures(sqs: Any, logs: Any, name: str, urls: tuple[str, str],
                            good: list[str], bad: list[str]) -> None:
    """A mapping with ReportBatchItemFailures (BatchSize 4, maxReceiveCount 2) took the source
    queue's ``good`` and ``bad`` messages: the bad ones are in the DLQ, every good one was
    processed exactly once, each bad one twice, in batches of at most 4."""
    url, dlq_url = urls
    dead = drain(sqs, dlq_url, len(bad))
    wait_for(lambda: queue_empty(sqs, url), "the source queue to be empty")
    assert sorted(m["Body"] for m in dead) == sorted(bad)
    # Received twice from the source queue, then once more here: the count moves with it.
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in dead} == {"3"}
    seen = Counter(r["body"] for r in records_logged(logs, name))
    assert {body: seen[body] for body in good} == dict.fromkeys(good, 1)
    assert {body: seen[body] for body in bad} == dict.fromkeys(bad, 2)  # maxReceiveCount tries
    sizes = [len(batch["records"]) for batch in logged(logs, name, "BATCH")]
    assert sizes and all(size <= 4 for size in sizes), sizes


def assert_loop_stopped(sqs: Any, logs: Any, name: str, dlq_url: str) -> list[dict[str, Any]]:
    """A LOOPER's chain was stopped at its 16th invocation: the message that would have made
    the 17th is in the DLQ, its lineage counts 15, and 16 runs were logged; those runs."""
    (stopped,) = drain(sqs, dlq_url, 1)
    # The 16th invocation sent hops 16; had a 17th run, it would have taken that message.
    assert json.loads(stopped["Body"]) == {"hops": 16}
    assert lineage_count(stopped["Attributes"]["AWSTraceHeader"], name) == 15
    runs: list[dict[str, Any]] = wait_for(
        lambda: (found := logged(logs, name, "LOOP")) and len(found) >= 16 and found,
        "16 invocations to be logged")
    assert sorted(run["hops"] for run in runs) == list(range(16))
    return runs
