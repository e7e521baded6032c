"""Lambda faults over real HTTP: Invoke answers as AWS does, and the next call succeeds."""

from __future__ import annotations

import base64
import io
import json
import re
import time

import numpy as np
import pytest

from harness.faults.client import FaultClient


@pytest.fixture
def faults(harness_endpoint):
    client = FaultClient(harness_endpoint)
    client.clear()
    yield client
    client.clear()


def _invoke(lambda_client, name, event=None):
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {"a": 1}),
                                    LogType="Tail")
    body = json.loads(response["Payload"].read())
    logs = base64.b64decode(response.get("LogResult", "")).decode()
    return response, body, logs


def _assert_next_call_succeeds(lambda_client, name, pid=None):
    response, body, _ = _invoke(lambda_client, name)
    assert "FunctionError" not in response and body["echo"] == {"a": 1}
    if pid is not None:
        assert body["pid"] != pid  # a new environment
    return body


def test_throttle_is_a_429_before_running(faults, lambda_client, create_function):
    name = create_function()
    faults.add({"target": "lambda", "kind": "throttle", "function": name, "times": 1})
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as info:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Message"] == "Rate Exceeded."
    assert error.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
    _assert_next_call_succeeds(lambda_client, name)


def test_other_functions_are_not_hit(faults, lambda_client, create_function):
    hit, spared = create_function(), create_function()
    faults.add({"target": "lambda", "kind": "throttle", "function": hit})
    _assert_next_call_succeeds(lambda_client, spared)
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException):
        lambda_client.invoke(FunctionName=hit, Payload=b"{}")


def test_timeout_is_sandbox_timedout_without_the_wait(faults, lambda_client, create_function):
    name = create_function(Timeout=30)
    pid = _assert_next_call_succeeds(lambda_client, name)["pid"]
    faults.add({"target": "lambda", "kind": "timeout", "function": name, "times": 1})
    started = time.perf_counter()
    response, body, logs = _invoke(lambda_client, name)
    assert time.perf_counter() - started < 10  # the 30 s are not waited out
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Error: Task timed out after 30.00 seconds")
    assert "Task timed out after 30.00 seconds" in logs
    assert re.search(r"REPORT RequestId: \S+\tDuration: 30000\.00 ms", logs), logs
    _assert_next_call_succeeds(lambda_client, name, pid)


def test_crash_is_a_runtime_exit_error(faults, lambda_client, create_function):
    name = create_function()
    pid = _assert_next_call_succeeds(lambda_client, name)["pid"]
    faults.add({"target": "lambda", "kind": "crash", "function": name, "times": 1})
    response, body, _ = _invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: signal: killed")
    _assert_next_call_succeeds(lambda_client, name, pid)


def test_oom_is_runtime_out_of_memory(faults, lambda_client, create_function):
    name = create_function()
    faults.add({"target": "lambda", "kind": "oom", "function": name, "times": 1})
    response, body, logs = _invoke(lambda_client, name)  # on a cold start too
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].endswith("Runtime exited with error: signal: killed")
    assert "REPORT RequestId:" in logs
    _assert_next_call_succeeds(lambda_client, name)


def test_latency_delays_the_call_but_not_its_duration(faults, lambda_client, create_function):
    name = create_function()
    _assert_next_call_succeeds(lambda_client, name)
    faults.add({"target": "lambda", "kind": "latency", "latency_ms": 400, "function": name})
    started = time.perf_counter()
    response, body, logs = _invoke(lambda_client, name)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert elapsed_ms >= 400
    assert "FunctionError" not in response and body["echo"] == {"a": 1}
    duration = float(re.search(r"\tDuration: ([\d.]+) ms", logs).group(1))
    # Platform delay, not function time: the call took the 400 ms on top of the Duration (a
    # Duration that counted the delay would leave less than 400 ms for everything else).
    assert duration <= elapsed_ms - 400
    [rule] = faults.report()
    assert rule["hits"] == 1


def test_crash_through_the_api_is_a_502_then_200(faults, harness_stack, harness_client,
                                                  harness_http):
    s3 = harness_client("s3", region_name=harness_stack.region)
    buffer = io.BytesIO()
    np.save(buffer, np.array([[5.1, 3.5, 1.4, 0.2]]))
    s3.put_object(Bucket=harness_stack.bucket, Key="faults/crash.npy", Body=buffer.getvalue())
    payload = {"bucket": harness_stack.bucket, "key": "faults/crash.npy"}
    faults.add({"target": "lambda", "kind": "crash", "function": harness_stack.function_name,
                "times": 1})
    status, body = harness_http.post_json(harness_stack.invoke_url, payload)
    assert (status, body) == (502, {"message": "Internal server error"})
    status, body = harness_http.post_json(harness_stack.invoke_url, payload)
    assert status == 200 and len(body["predictions"]) == 1
