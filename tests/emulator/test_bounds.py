"""Through the embedded emulator: a function's output is cut as Lambda and CloudWatch Logs cut it
and capped per invocation, log streams of stopped environments are pruned to the bound, and a
response racing the timeout gets one verdict."""

from __future__ import annotations

import base64
import gc
import json
import re
import weakref

from harness.lambda_.logs import EVENT_OVERHEAD_BYTES, MAX_EVENT_BYTES, MAX_MESSAGE_BYTES
from harness.lambda_.output import MAX_OUTPUT_BYTES
from harness.load.harness_side import HarnessSide
from tests.emulator.support import log_messages, own_emulator, wait_for

PRINTS_A_LOT = '''
import sys
def handler(event, context):
    sys.stdout.write("x" * 2_000_000 + "\\n")       # one line of 2 MB
    for i in range(100_000):                       # and 100,000 short ones (1.2 MB)
        sys.stdout.write("line %06d\\n" % i)
    sys.stdout.flush()
    return {"printed": 2_000_001 + 100_000 * 12}
'''

CRASHES_WHEN_ASKED = '''
import os
def handler(event, context):
    if event.get("crash"):
        os._exit(3)
    return "alive"
'''

ANSWERS_AT_ITS_DEADLINE = '''
import time
def handler(event, context):
    time.sleep(max(0.0, context.get_remaining_time_in_millis() / 1000 - event["early_s"]))
    return "answered"
'''

_TRUNCATED = re.compile(r"^\.\.\.truncated (\d+) bytes ")


def _invocation_messages(messages: list[str], request_id: str) -> list[str]:
    """The events of one invocation, START to REPORT."""
    start = messages.index(next(m for m in messages if m.startswith(f"START RequestId: "
                                                                    f"{request_id}")))
    end = messages.index(next(m for m in messages if m.startswith(f"REPORT RequestId: "
                                                                  f"{request_id}")))
    return messages[start:end + 1]


def test_a_function_printing_megabytes_answers_and_its_log_is_cut_and_capped(
        create_function, lambda_client, harness_client):
    name = create_function({"app.py": PRINTS_A_LOT}, Timeout=60, MemorySize=256)
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in response
    printed = json.loads(response["Payload"].read())["printed"]
    request_id = response["ResponseMetadata"]["RequestId"]
    logs = harness_client("logs")
    messages = wait_for(lambda: (found := log_messages(logs, name))
                        and any(m.startswith(f"REPORT RequestId: {request_id}") for m in found)
                        and found)
    events = _invocation_messages(messages, request_id)
    # every event fits CloudWatch Logs' largest (256 KB with its 26 bytes of overhead)
    assert all(len(m.encode()) + EVENT_OVERHEAD_BYTES <= MAX_EVENT_BYTES for m in events)
    output = events[1:-2]  # between START and END, REPORT
    *kept, note = output
    # the 2 MB line, as Lambda splits it, up to the harness's cap per invocation
    assert [len(m) for m in kept] == [MAX_MESSAGE_BYTES] * 4 + [MAX_OUTPUT_BYTES
                                                                 - 4 * MAX_MESSAGE_BYTES]
    assert set("".join(kept)) == {"x"}
    match = _TRUNCATED.match(note)
    assert match is not None, note
    assert int(match.group(1)) == printed - MAX_OUTPUT_BYTES  # the rest, counted to the byte
    assert events[-2] == f"END RequestId: {request_id}"


def test_many_short_lived_environments_leave_only_the_bound_of_log_streams(tmp_path):
    """Streams of stopped environments go past the bound, oldest written first; the stream of
    an environment still running stays, however old."""
    with own_emulator(tmp_path, log_streams_per_group=3) as own:
        name = own.create_function({"app.py": CRASHES_WHEN_ASKED})
        lam, logs = own.client("lambda"), own.client("logs")
        version = lam.publish_version(FunctionName=name)["Version"]
        warm = lam.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
        assert json.loads(warm["Payload"].read()) == "alive"  # its environment stays warm
        ids = []
        for _ in range(8):  # each crash stops its environment: the next one is a new stream
            response = lam.invoke(FunctionName=name, Payload=b'{"crash": true}')
            assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ExitError"
            ids.append(response["ResponseMetadata"]["RequestId"])
        streams = [s["logStreamName"] for s in logs.describe_log_streams(
            logGroupName=f"/aws/lambda/{name}")["logStreams"]]
        assert len(streams) == 3, streams  # the bound, the live environment's among them
        assert sum(f"[{version}]" in stream for stream in streams) == 1
        messages = log_messages(logs, name)
        assert any(warm["ResponseMetadata"]["RequestId"] in m for m in messages)
        assert any(ids[-1] in m for m in messages)  # the newest stay ...
        assert not any(ids[0] in m for m in messages)  # ... the oldest are gone


def test_a_function_answering_at_its_timeout_gets_one_verdict(create_function, lambda_client):
    """Whether the response or the timeout wins, what the caller gets, the log and the next
    invocation agree with it. (Which one wins depends on timing: either is right.)"""
    name = create_function({"app.py": ANSWERS_AT_ITS_DEADLINE}, Timeout=1)
    for early_s in (0.003, 0.002, 0.001, 0.0005, 0.0, 0.001):
        response = lambda_client.invoke(FunctionName=name, LogType="Tail",
                                        Payload=json.dumps({"early_s": early_s}).encode())
        body = json.loads(response["Payload"].read())
        tail = base64.b64decode(response["LogResult"]).decode()
        if "FunctionError" in response:
            assert body["errorType"] == "Sandbox.Timedout", body
            assert "Task timed out after 1.00 seconds" in tail
        else:
            assert body == "answered"
            assert "Task timed out" not in tail
        assert "REPORT RequestId: " in tail
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"early_s": 0.5}')
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == "answered"


def test_a_finished_load_run_leaves_nothing_alive_in_the_emulator(
        harness_emulator, create_function, lambda_client):
    """A long-lived emulator runs many load runs: each run's REPORT figures go with it."""
    name = create_function()
    side = HarnessSide(harness_emulator.lambdas, name, sample_interval_s=0.05).start()
    lambda_client.invoke(FunctionName=name, Payload=b"{}")
    side.stop()
    assert len(side.invocations) == 1
    gone = weakref.ref(side)
    del side
    gc.collect()
    assert gone() is None
