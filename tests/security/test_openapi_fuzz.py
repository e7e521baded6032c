"""Schema-driven fuzz of the harness's own HTTP surfaces with schemathesis.

The emulator's own routes and Lambda Invoke are fuzzed from the description the emulator serves
(``GET /_harness/openapi.json``); a live environment's Runtime API from ``runtime_api_openapi()``.
Every check schemathesis has runs (no 5xx, status codes, content types, headers and bodies as
documented, schema-violating requests refused, undeclared methods 405 with Allow), except:

- ``POST /_harness/reset`` is not generated: its one valid call wipes moto's process-wide state,
  which the other tests of the session share. Its wrong methods are still sent (405).
- ``GET /runtime/invocation/next`` is not generated: it is a long poll that hands the next
  invocation to whoever asks, so a fuzz call would park until one came, then steal it.
- ``positive_data_acceptance`` takes 400 and 403 from the Runtime API: the test process is not
  one of the environment's own processes, so every well-formed call is refused (403
  AccessDenied) after the same checks of path, method and size as the runtime's own calls get.
  The test asserts that refusal itself.

No 5xx is excused: Invoke documents 500 (ServiceException) only for an emulator shutting down,
and a function's own failure is a 200 with X-Amz-Function-Error, a throttle a 429.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import PositiveDataAcceptanceConfig

from harness.emulator.openapi import OPENAPI_PATH, emulator_openapi, runtime_api_openapi
from tests.conftest import LOCAL_RUNTIME

# Derandomised and bounded: the same requests on every run, the file well under a minute. Each
# example is an HTTP round trip (some a real invocation): slow by hypothesis's measure, on purpose.
FUZZ = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
FUNCTION = "openapi-fuzz-target"
FUNCTION_SOURCE = '''
import os
def handler(event, context):
    return {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "pid": os.getpid(),
            "id": context.aws_request_id}
'''

# schemathesis.pytest.from_fixture would load the description from the running emulator, but
# its lazy loader does not work on pytest 9; the document is package data, and the route is
# checked below to serve exactly it.
own_routes = schemathesis.openapi.from_dict(emulator_openapi()).exclude(
    path="/_harness/reset", method="POST")
invoke_of_a_real_function = schemathesis.openapi.from_dict(emulator_openapi()).include(
    operation_id="invoke")
# Qualifier fixed too, else nearly every valid request names a version that does not exist;
# and the client context, which must be base64 of a JSON object (no JSON Schema says that).
invoke_of_a_real_function.config.update(parameters={
    "FunctionName": FUNCTION, "Qualifier": "$LATEST",
    "X-Amz-Client-Context": base64.b64encode(b'{"custom": {"fuzz": "yes"}}').decode()})
runtime_api = schemathesis.openapi.from_dict(runtime_api_openapi()).exclude(
    path="/runtime/invocation/next", method="GET")
runtime_api.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "400", "403"])


@pytest.fixture(scope="module")
def no_faults_left(harness_endpoint: str) -> Iterator[None]:
    yield
    requests.delete(harness_endpoint + "/_harness/faults", timeout=5)


@pytest.fixture(scope="module")
def warm_function(lambda_client, iam_role, make_zip) -> Iterator[dict]:
    """A deployed function with one warm environment; what its first invocation saw."""
    lambda_client.create_function(
        FunctionName=FUNCTION, Runtime=LOCAL_RUNTIME, Role=iam_role(), Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": FUNCTION_SOURCE})}, Timeout=10)
    try:
        yield json.loads(lambda_client.invoke(FunctionName=FUNCTION)["Payload"].read())
    finally:
        lambda_client.delete_function(FunctionName=FUNCTION)


def test_the_emulator_serves_its_description(harness_endpoint):
    response = requests.get(harness_endpoint + OPENAPI_PATH, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == emulator_openapi()


@own_routes.parametrize()
@FUZZ
def test_own_routes_and_invoke_answer_as_documented(case, harness_endpoint, no_faults_left):
    try:
        case.call_and_validate(base_url=harness_endpoint, timeout=10)
    finally:
        if case.path.startswith("/_harness/faults") and case.method.upper() == "POST":
            # An accepted rule stays in force: drop it before the next example runs.
            requests.delete(harness_endpoint + "/_harness/faults", timeout=5)


# -- the Runtime API of a live environment -----------------------------------------------------

@runtime_api.parametrize()
@FUZZ
def test_runtime_api_refuses_garbage_and_unknown_invocations(case, warm_function):
    response = case.call_and_validate(base_url=f"http://{warm_function['api']}/2018-06-01",
                                      timeout=10)
    # A stranger to the environment: refused, whatever it sends, and never served an invocation.
    assert 400 <= response.status_code < 500, response.text


def test_the_fuzzed_environment_serves_its_next_invocation(warm_function, lambda_client):
    response = lambda_client.invoke(FunctionName=FUNCTION)
    after = json.loads(response["Payload"].read())
    assert "FunctionError" not in response
    # The same environment (same Runtime API, same process) answered: the fuzz broke nothing.
    assert (after["api"], after["pid"]) == (warm_function["api"], warm_function["pid"])
    assert after["id"] != warm_function["id"]


# -- Invoke of a function that exists: real invocations, real and garbage parameters -----------

@invoke_of_a_real_function.parametrize()
@FUZZ
def test_invoke_of_a_real_function_answers_as_documented(case, harness_endpoint, warm_function):
    case.call_and_validate(base_url=harness_endpoint, timeout=30)


def test_the_emulator_still_serves_after_the_fuzz(harness_endpoint):
    response = requests.get(harness_endpoint + "/_harness/health", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "running"
