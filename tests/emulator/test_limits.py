"""Lambda and API Gateway limits end to end: integration and function timeouts, throttling,
keep-alive, payload sizes. Real functions through awslambdaric, over HTTP."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlencode

import psutil
import pytest
from botocore.exceptions import ClientError

from harness.config import GatewayConfig, LambdaConfig
from tests.emulator.support import (
    ECHO,
    allow_api,
    function_arn,
    json_body,
    lambda_uri,
    log_messages,
    own_emulator,
    raw_request,
    rest_api,
    wait_for,
)

SLEEPY = '''
import os, time
def handler(event, context):
    time.sleep(float(event.get("seconds", 0)))
    return {"pid": os.getpid()}
'''

# Runs until the test creates the file ``gate`` (after touching ``started``, if given): the test
# decides when an invocation ends, whatever the machine's speed. Invoke events carry the two
# paths; API Gateway events carry them in the query string.
GATED = '''
import json, os, time
def handler(event, context):
    args = event.get("queryStringParameters") or event
    if args.get("started"):
        open(args["started"], "w").close()
    while args.get("gate") and not os.path.exists(args["gate"]):
        time.sleep(0.01)
    print("released" if args.get("gate") else "ungated")
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
'''


def invoke(client, name, payload=None, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(),
                             **kwargs)
    response["Body"] = response["Payload"].read()
    return response


def outcome(call):
    """("ok", response) or ("throttled", the error response) of one invoke."""
    try:
        return "ok", call()
    except ClientError as error:
        return "throttled", error.response


@contextmanager
def held(tmp_path, call):
    """Runs ``call(started, gate)`` on a thread until the function has started; yields the
    future, and at the end (also on failure) opens the gate and waits for the call's end."""
    started, gate = tmp_path / f"started-{uuid.uuid4().hex}", tmp_path / f"gate-{uuid.uuid4().hex}"
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call, str(started), str(gate))
        try:
            wait_for(lambda: started.exists() or future.done(), timeout=60)
            assert started.exists(), f"the held invocation ended early: {future.result()}"
            yield future
        finally:
            gate.touch()


# -- integration timeout -------------------------------------------------------------------------
def test_integration_timeout_is_504_and_the_function_runs_on_in_its_environment(tmp_path):
    with own_emulator(tmp_path, gateway=GatewayConfig(integration_timeout_s=0.5)) as own:
        name = own.create_function({"app.py": GATED}, Timeout=120)
        api_id = rest_api(own.client("apigateway"), lambda_uri(function_arn(name)),
                          [("/work", "GET")])
        allow_api(own.client("lambda"), name, api_id)
        url = f"{own.url}/_aws/execute-api/{api_id}/test/work"
        # Warm through the Invoke API, which has no integration timeout: a cold start on a busy
        # machine must not eat the gateway's 0.5 s.
        warm = own.client("lambda").invoke(FunctionName=name, Payload=b"{}")
        pid = json.loads(json_body(warm["Payload"].read())["body"])["pid"]
        gate = tmp_path / "gate"
        started = time.monotonic()
        status, _headers, raw = raw_request(f"{url}?{urlencode({'gate': str(gate)})}")
        waited = time.monotonic() - started
        # The function is held until the gate opens: only the gateway's timeout can answer.
        assert status == 504
        assert json.loads(raw) == {"message": "Endpoint request timed out"}
        assert waited >= 0.45  # it waited its 0.5 s first
        # The function is not killed: once released it finishes ...
        gate.touch()
        logs = own.client("logs")
        wait_for(lambda: any(m.startswith("released") for m in log_messages(logs, name))
                 and sum(m.startswith("REPORT") for m in log_messages(logs, name)) == 2,
                 timeout=60)
        # ... and its environment goes back to the pool: the next request runs in it.
        status, _headers, raw = raw_request(url)
        assert status == 200, raw
        assert json_body(raw)["pid"] == pid
        assert own.emulator.lambdas.environments() == 1


def test_function_timeout_behind_a_rest_api_is_502_not_504(harness_client, harness_endpoint,
                                                          create_function):
    # The function "runs but returns an error" (Sandbox.Timedout): API Gateway answers 502.
    name = create_function({"app.py": ECHO}, Timeout=1)
    api_id = rest_api(harness_client("apigateway"), lambda_uri(function_arn(name)),
                      [("/slow", "GET")])
    allow_api(harness_client("lambda"), name, api_id)
    status, _headers, raw = raw_request(
        f"{harness_endpoint}/_aws/execute-api/{api_id}/test/slow?mode=sleep&s=1.5")
    assert status == 502
    assert json.loads(raw) == {"message": "Internal server error"}


# -- throttling ----------------------------------------------------------------------------------
def _gated_invoke(client, name):
    """``call(started, gate)`` for `held`: one Invoke of a GATED function."""
    return lambda started, gate: invoke(client, name, {"started": started, "gate": gate})


def test_reserved_concurrency_one_throttles_the_second_concurrent_invoke(lambda_client,
                                                                         create_function,
                                                                         tmp_path):
    name = create_function({"app.py": GATED}, Timeout=120)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    with held(tmp_path, _gated_invoke(lambda_client, name)) as first:
        kind, error = outcome(lambda: invoke(lambda_client, name))
    assert kind == "throttled"
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert "FunctionError" not in first.result()  # the held one was not disturbed


def test_account_concurrency_limit_throttles_invoke_and_api_gateway(tmp_path):
    with own_emulator(tmp_path, lambda_=LambdaConfig(account_concurrency=1)) as own:
        lam = own.client("lambda")
        name = own.create_function({"app.py": GATED}, Timeout=120)
        with held(tmp_path, _gated_invoke(lam, name)) as first:
            kind, error = outcome(lambda: invoke(lam, name))
        assert kind == "throttled", error
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert "FunctionError" not in first.result()
        # Behind API Gateway a throttle is "the Lambda API rejects the invocation": 500.
        api_id = rest_api(own.client("apigateway"), lambda_uri(function_arn(name)),
                          [("/x", "GET")])
        allow_api(lam, name, api_id)
        url = f"{own.url}/_aws/execute-api/{api_id}/test/x"

        def gated_get(started, gate):
            return raw_request(f"{url}?{urlencode({'started': started, 'gate': gate})}",
                               timeout=120)

        with held(tmp_path, gated_get) as first_get:
            status, _headers, throttled = raw_request(url)
        assert status == 500
        assert json.loads(throttled) == {"message": "Internal server error"}
        assert first_get.result()[0] == 200


# -- keep-alive ----------------------------------------------------------------------------------
def test_idle_environment_is_stopped_after_the_keep_alive(tmp_path):
    keep_alive = 2.0  # long enough for two back-to-back calls even on a loaded machine
    with own_emulator(tmp_path, lambda_=LambdaConfig(keep_alive_s=keep_alive)) as own:
        lam = own.client("lambda")
        name = own.create_function({"app.py": SLEEPY})
        first = invoke(lam, name, LogType="Tail")
        pid = json_body(first["Body"])["pid"]
        assert "Init Duration" in base64.b64decode(first["LogResult"]).decode()
        idle_from = time.monotonic()  # the last invocation below starts after this
        warm = invoke(lam, name, LogType="Tail")  # within the keep-alive: the same process
        assert json_body(warm["Body"])["pid"] == pid
        assert "Init Duration" not in base64.b64decode(warm["LogResult"]).decode()
        # The deadline is only a guard against a hang; the reaper looks every 0.5 s.
        wait_for(lambda: not _alive(pid), timeout=keep_alive + 60, interval=0.02)
        # Not stopped early: it lived at least the keep-alive after its last invocation.
        assert time.monotonic() - idle_from >= keep_alive
        assert own.emulator.lambdas.environments() == 0
        cold = invoke(lam, name, LogType="Tail")
        assert json_body(cold["Body"])["pid"] != pid
        assert "Init Duration" in base64.b64decode(cold["LogResult"]).decode()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- payloads ------------------------------------------------------------------------------------
BIG = '''
def handler(event, context):
    return "x" * event["size"]
'''


@pytest.mark.parametrize(("size", "too_large"), [(6291554, False), (6291555, True),
                                                 (7_000_000, True)])
def test_response_over_6_mb_is_function_response_size_too_large(lambda_client, create_function,
                                                                size, too_large):
    # A JSON string of n characters is n + 2 bytes: 6291556 bytes is the largest allowed.
    name = create_function({"app.py": BIG})
    response = invoke(lambda_client, name, {"size": size})
    assert response["StatusCode"] == 200
    if not too_large:
        assert "FunctionError" not in response
        assert len(response["Body"]) == 6291556
        return
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in body["errorMessage"]
    # The runtime client gives up on that environment; the next call gets a fresh one.
    after = invoke(lambda_client, name, {"size": 3})
    assert "FunctionError" not in after and after["Body"] == b'"xxx"'


def test_request_body_over_10_mb_to_api_gateway_is_413(harness_endpoint):
    url = f"{harness_endpoint}/_aws/execute-api/noapi/test/upload"
    limit = 10 * 1024 * 1024
    status, _headers, raw = raw_request(url, "POST", [("Content-Type", "text/plain")],
                                        b"x" * (limit + 1))
    assert status == 413, raw
    # At the limit the request is read and routed (to no API: 403).
    status, _headers, _raw = raw_request(url, "POST", [("Content-Type", "text/plain")],
                                         b"x" * limit)
    assert status == 403


def test_log_streams_keep_their_newest_events_up_to_the_limit(tmp_path):
    """A long-running emulator does not grow by every invocation's log lines forever."""
    with own_emulator(tmp_path, log_events_per_stream=20) as own:
        name = own.create_function()
        lam, logs = own.client("lambda"), own.client("logs")
        ids = [lam.invoke(FunctionName=name, Payload=b"{}")["ResponseMetadata"]["RequestId"]
               for _ in range(12)]
        messages = wait_for(lambda: [m for m in log_messages(logs, name)
                                     if ids[-1] in m and m.startswith("REPORT")]
                            and log_messages(logs, name))
        # START, END and REPORT per call: 12 calls are well past 20 events
        assert 20 <= len(messages) <= 22, messages
        assert messages[-1].startswith(f"REPORT RequestId: {ids[-1]}")
        assert not any(ids[0] in m for m in messages)
