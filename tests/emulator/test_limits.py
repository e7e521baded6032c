"""Lambda and API Gateway limits end to end: integration and function timeouts, throttling,
keep-alive, payload sizes. Real functions through awslambdaric, over HTTP."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from botocore.exceptions import ClientError

from harness.config import GatewayConfig, LambdaConfig
from tests.emulator.support import (
    ECHO,
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


def concurrently(*calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


# -- integration timeout -------------------------------------------------------------------------
def test_integration_timeout_is_504_and_the_function_runs_on_in_its_environment(tmp_path):
    with own_emulator(tmp_path, gateway=GatewayConfig(integration_timeout_s=0.5)) as own:
        name = own.create_function(Timeout=10)
        api_id = rest_api(own.client("apigateway"), lambda_uri(function_arn(name)),
                          [("/work", "GET")])
        url = f"{own.url}/_aws/execute-api/{api_id}/test/work"
        # Warm through the Invoke API, which has no integration timeout: a cold start on a busy
        # machine must not eat the gateway's 0.5 s.
        warm = own.client("lambda").invoke(FunctionName=name, Payload=b"{}")
        pid = json.loads(json_body(warm["Payload"].read())["body"])["pid"]
        started = time.monotonic()
        status, _headers, raw = raw_request(f"{url}?mode=sleep&s=1.5")
        waited = time.monotonic() - started
        assert status == 504
        assert json.loads(raw) == {"message": "Endpoint request timed out"}
        assert 0.45 <= waited < 1.45  # the gateway's 0.5 s, not the function's 1.5 s
        # The function is not killed: it finishes its 1.5 s ...
        logs = own.client("logs")
        reports = wait_for(lambda: [m for m in log_messages(logs, name)
                                    if m.startswith("REPORT") and _duration_ms(m) >= 1400])
        assert len(reports) == 1
        # ... and its environment goes back to the pool: the next request runs in it.
        status, _headers, raw = raw_request(url)
        assert status == 200, raw
        assert json_body(raw)["pid"] == pid
        assert own.emulator.lambdas.environments() == 1


def _duration_ms(report_line: str) -> float:
    return float(report_line.split("\tDuration: ", 1)[1].split(" ms", 1)[0])


def test_function_timeout_behind_a_rest_api_is_502_not_504(harness_client, harness_endpoint,
                                                          create_function):
    # The function "runs but returns an error" (Sandbox.Timedout): API Gateway answers 502.
    name = create_function({"app.py": ECHO}, Timeout=1)
    api_id = rest_api(harness_client("apigateway"), lambda_uri(function_arn(name)),
                      [("/slow", "GET")])
    status, _headers, raw = raw_request(
        f"{harness_endpoint}/_aws/execute-api/{api_id}/test/slow?mode=sleep&s=1.5")
    assert status == 502
    assert json.loads(raw) == {"message": "Internal server error"}


# -- throttling ----------------------------------------------------------------------------------
def test_reserved_concurrency_one_throttles_the_second_concurrent_invoke(lambda_client,
                                                                         create_function):
    name = create_function({"app.py": SLEEPY})
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    results = concurrently(
        *[lambda: outcome(lambda: invoke(lambda_client, name, {"seconds": 0.8}))] * 2)
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["ok", "throttled"]
    error = next(response for kind, response in results if kind == "throttled")
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_account_concurrency_limit_throttles_invoke_and_api_gateway(tmp_path):
    with own_emulator(tmp_path, lambda_=LambdaConfig(account_concurrency=1)) as own:
        lam = own.client("lambda")
        name = own.create_function({"app.py": SLEEPY})
        results = concurrently(*[lambda: outcome(lambda: invoke(lam, name, {"seconds": 0.8}))] * 2)
        assert sorted(kind for kind, _ in results) == ["ok", "throttled"]
        error = next(response for kind, response in results if kind == "throttled")
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Reason"] == "ConcurrentInvocationLimitExceeded"
        # Behind API Gateway a throttle is "the Lambda API rejects the invocation": 500.
        echo = own.create_function()
        api_id = rest_api(own.client("apigateway"), lambda_uri(function_arn(echo)),
                          [("/x", "GET")])
        url = f"{own.url}/_aws/execute-api/{api_id}/test/x?mode=sleep&s=0.8"
        answers = concurrently(*[lambda: raw_request(url)] * 2)
        assert sorted(status for status, _h, _b in answers) == [200, 500]
        throttled = next(body for status, _h, body in answers if status == 500)
        assert json.loads(throttled) == {"message": "Internal server error"}


# -- keep-alive ----------------------------------------------------------------------------------
def test_idle_environment_is_stopped_after_the_keep_alive(tmp_path):
    with own_emulator(tmp_path, lambda_=LambdaConfig(keep_alive_s=1.0)) as own:
        lam = own.client("lambda")
        name = own.create_function({"app.py": SLEEPY})
        first = invoke(lam, name, LogType="Tail")
        pid = json_body(first["Body"])["pid"]
        assert "Init Duration" in base64.b64decode(first["LogResult"]).decode()
        warm = invoke(lam, name, LogType="Tail")  # within the keep-alive: the same process
        assert json_body(warm["Body"])["pid"] == pid
        assert "Init Duration" not in base64.b64decode(warm["LogResult"]).decode()
        wait_for(lambda: not _alive(pid), timeout=5)
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
