"""The same handlers under AWS's Runtime Interface Emulator (RIE) and under the harness.

Both run the same runtime client (awslambdaric) on the same interpreter, so whatever the runtime
itself produces (return values, error documents, stack traces) must come back unchanged from
both. What differs is what the platform around the runtime adds: the HTTP status, the
``X-Amz-Function-Error`` header and the documents the platform writes itself (timeouts, crashes).
Each such difference is asserted below with the reason the harness answers as it does. Where the
RIE and real Lambda disagree, the harness follows Lambda's Invoke API:

- https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: for RequestResponse the status
  is 200; a function error is signalled by ``X-Amz-Function-Error`` (``FunctionError`` in boto3).
- https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html: "A 2xx series error with a
  X-Amz-Function-Error header in the response indicates a Lambda runtime or function error."

The RIE is driven through its own endpoint (``POST /2015-03-31/functions/function/invocations``),
which is what ``sam local invoke`` and the Lambda base images' local mode expose.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .rie import RieProcess, normalise_ids

APP = '''
import os
import time


def handler(event, context):
    action = event.get("action")
    if action == "raise":
        raise ValueError("bad input: " + str(event.get("why")))
    if action == "return-set":
        return {1, 2}
    if action == "return-object":
        return {"model": object()}
    if action == "exit":
        os._exit(7)
    if action == "sleep":
        time.sleep(float(event["seconds"]))
    return {"echo": event, "numbers": [1, 2.5, None, True], "text": "caf\\u00e9 \\u2713"}
'''

INIT_ERRORS = {
    "import-error": ("import no_such_module_here\n\n\ndef handler(event, context):\n"
                     "    return 1\n", "Runtime.ImportModuleError"),
    "exception-at-import": ("raise KeyError('config missing')\n", "KeyError"),
    "syntax-error": ("def handler(event, context)\n    return 1\n", "Runtime.UserCodeSyntaxError"),
    "handler-missing": ("x = 1\n", "Runtime.HandlerNotFound"),
}

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The task root differs (a tmp dir for the RIE, the harness's code cache): compare file names.
_TASK_FILE = re.compile(r'"[^"]*/(app\.py)"')


@dataclass(frozen=True)
class Answer:
    """What the caller of one invocation got back."""

    status: int
    function_error: str | None
    """X-Amz-Function-Error, or None when absent."""
    content_type: str | None
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def ask_rie(rie: RieProcess, event: Any) -> Answer:
    started = time.perf_counter()
    response = rie.invoke(json.dumps(event).encode())
    headers = {key.lower(): value for key, value in response.headers.items()}
    return Answer(response.status, headers.get("x-amz-function-error"),
                  headers.get("content-type"), response.body, time.perf_counter() - started)


def ask_harness(client: Any, name: str, event: Any) -> Answer:
    started = time.perf_counter()
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = response["Payload"].read()
    return Answer(response["StatusCode"], response.get("FunctionError"),
                  response["ResponseMetadata"]["HTTPHeaders"].get("content-type"), body,
                  time.perf_counter() - started)


Pairs = list[tuple[Answer, Answer]]


@pytest.fixture
def run_both(run_rie, create_function, lambda_client) -> Callable[..., Pairs]:
    """``run_both(source, [event, ...], timeout_s=3)`` -> [(rie answer, harness answer), ...]."""

    def run(source: str, events: list[Any], timeout_s: int = 3) -> Pairs:
        rie = run_rie({"app.py": source}, timeout_s=timeout_s)
        name = create_function({"app.py": source}, Timeout=timeout_s)
        return [(ask_rie(rie, event), ask_harness(lambda_client, name, event))
                for event in events]

    return run


def comparable(document: dict[str, Any]) -> Any:
    """An error document without its request id, with ids and task-root paths normalised."""
    return _normalise({key: value for key, value in document.items() if key != "requestId"})


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return _TASK_FILE.sub(r'"\1"', normalise_ids(value))
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value


def assert_function_error_signal(rie: Answer, harness: Answer) -> None:
    # Difference: the RIE never sends X-Amz-Function-Error; an error is visible only in the body.
    # Lambda's Invoke API sends "Unhandled" for every runtime or function error (API_Invoke), and
    # SDKs branch on it (boto3's FunctionError), so the harness sends it.
    assert rie.function_error is None
    assert harness.function_error == "Unhandled"


def test_success_returns_the_same_bytes(run_both):
    event = {"hello": "world", "n": [1, 2]}
    [(rie, harness)] = run_both(APP, [event])
    assert rie.status == harness.status == 200
    assert rie.function_error is None and harness.function_error is None
    assert rie.body == harness.body
    assert harness.json() == {"echo": event, "numbers": [1, 2.5, None, True], "text": "café ✓"}
    # Difference (recorded, harmless): the RIE labels every answer, JSON or not, text/plain; the
    # harness labels it application/json. boto3 reads Invoke's payload as a blob either way.
    assert rie.content_type == "text/plain; charset=utf-8"
    assert harness.content_type == "application/json"


def test_handler_exception_is_the_runtimes_error_document(run_both):
    [(rie, harness)] = run_both(APP, [{"action": "raise", "why": "negative"}])
    assert rie.status == harness.status == 200
    assert_function_error_signal(rie, harness)
    rie_doc, harness_doc = rie.json(), harness.json()
    # awslambdaric writes this document; both pass it through unchanged (same keys, same order).
    assert list(rie_doc) == list(harness_doc) == ["errorMessage", "errorType", "requestId",
                                                  "stackTrace"]
    assert comparable(rie_doc) == comparable(harness_doc)
    assert harness_doc["errorType"] == "ValueError"
    assert harness_doc["errorMessage"] == "bad input: negative"
    assert 'File "app.py", line 9, in handler' in comparable(harness_doc)["stackTrace"][0]
    assert _UUID.match(rie_doc["requestId"]) and _UUID.match(harness_doc["requestId"])


@pytest.mark.parametrize("case", sorted(INIT_ERRORS))
def test_init_error_is_the_runtimes_error_document_on_every_invocation(run_both, case):
    source, error_type = INIT_ERRORS[case]
    pairs = run_both(source, [{}, {}])
    for rie, harness in pairs:  # a failed init is retried, and fails alike, on the next invoke
        # Difference: the RIE answers an init failure with 502 Bad Gateway. Lambda's Invoke
        # answers 200 with X-Amz-Function-Error: Unhandled (API_Invoke: RequestResponse is 200;
        # python-exceptions: runtime errors are a 2xx with that header); the harness follows it.
        assert rie.status == 502
        assert harness.status == 200
        assert_function_error_signal(rie, harness)
        rie_doc, harness_doc = rie.json(), harness.json()
        assert comparable(rie_doc) == comparable(harness_doc)
        assert harness_doc["errorType"] == error_type
        # The runtime reports an init error before it has a request, with "requestId": "";
        # the RIE, real Lambda and the harness all pass that on unchanged.
        assert rie_doc["requestId"] == harness_doc["requestId"] == ""


@pytest.mark.parametrize("action, type_name", [("return-set", "set"),
                                               ("return-object", "object")])
def test_unserialisable_result_is_marshal_error(run_both, action, type_name):
    [(rie, harness)] = run_both(APP, [{"action": action}])
    assert rie.status == harness.status == 200
    assert_function_error_signal(rie, harness)
    rie_doc, harness_doc = rie.json(), harness.json()
    assert comparable(rie_doc) == comparable(harness_doc) == {
        "errorMessage": f"Unable to marshal response: Object of type {type_name} is not JSON "
                        "serializable",
        "errorType": "Runtime.MarshalError",
        "stackTrace": [],
    }
    assert _UUID.match(rie_doc["requestId"]) and _UUID.match(harness_doc["requestId"])


def test_timeout_ends_the_invocation_and_the_next_one_starts_afresh(run_both):
    (rie, harness), (rie_after, harness_after) = run_both(
        APP, [{"action": "sleep", "seconds": 30}, {"after": "timeout"}], timeout_s=1)
    assert rie.status == harness.status == 200
    assert_function_error_signal(rie, harness)
    for answer in (rie, harness):
        # At least the 1 s timeout; the upper bound is generous on purpose (a loaded machine may
        # take seconds to cold-start): anything well short of the function's 30 s sleep means
        # the timeout cut it off rather than the sleep ending.
        assert 1.0 <= answer.seconds < 20.0
    # Difference: the RIE answers a timeout with a bare text line, not a JSON document. Lambda
    # answers {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id> Error: Task timed
    # out after 1.00 seconds"} (what `aws lambda invoke` prints for a timed-out function), and
    # clients parse the payload as JSON, so the harness sends Lambda's document.
    assert rie.body == b"Task timed out after 1.00 seconds"
    assert normalise_ids(harness.json()["errorMessage"]) == \
        "RequestId: <request-id> Error: Task timed out after 1.00 seconds"
    assert harness.json()["errorType"] == "Sandbox.Timedout"
    # Both killed the runtime: the next invocation runs in a fresh one and succeeds alike.
    assert rie_after.status == harness_after.status == 200
    assert rie_after.function_error is None and harness_after.function_error is None
    assert rie_after.body == harness_after.body


def test_runtime_exit_is_runtime_exit_error(run_both):
    [(rie, harness)] = run_both(APP, [{"action": "exit"}])
    # Difference: 502 from the RIE, 200 + Unhandled from Lambda and the harness (as for init).
    assert rie.status == 502
    assert harness.status == 200
    assert_function_error_signal(rie, harness)
    # The platform writes this document, and both write the same one...
    assert normalise_ids(json.dumps(rie.json(), sort_keys=True)) == \
        normalise_ids(json.dumps(harness.json(), sort_keys=True))
    assert normalise_ids(harness.json()["errorMessage"]) == \
        "RequestId: <request-id> Error: Runtime exited with error: exit status 7"
    # ...and in the same bytes: compact JSON, as Lambda writes it.
    assert rie.body == json.dumps(rie.json(), separators=(",", ":")).encode()
    assert harness.body == json.dumps(harness.json(), separators=(",", ":")).encode()
