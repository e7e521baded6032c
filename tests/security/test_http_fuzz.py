"""Hostile bytes at the emulator's HTTP surface, and hostile proxy results from a deployed function.

Everything goes over raw sockets and is read strictly (``tests/wire.py``): each request must get
complete, well-formed answers and nothing else; a dropped connection or a missing answer fails.
The targets are the routes the harness serves itself (health, Invoke, reset), execute-api for an
API that does not exist, and a deployed REST API and HTTP API whose function returns whatever
proxy result the request describes: CR, LF and NUL in header names, values and cookies,
non-Latin-1 text, huge headers, status codes out of range or of the wrong type, bodies of the
wrong type, bad base64. An invalid result gets the gateway's error (with the reason logged), a
valid one passes through, and no injected header or response ever reaches the client.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LOCAL_RUNTIME, build_zip
from tests.emulator.support import allow_api, function_arn, lambda_uri, rest_api, unique
from tests.wire import Response, exchange, parse_one, parse_responses

PATHS = [
    "/_harness/health",
    "/2015-03-31/functions/nope/invocations",
    "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ax/invocations",
    "/_aws/execute-api/abc123/dev/predict",
    "/restapis/abc123/dev/_user_request_/predict",
]
DEPLOYED = ["{rest}", "{http}"]  # the deployed routes, filled in once they exist
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "G\x00ET", "",
           "POST " * 3]
FUZZ = settings(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# The function behind both APIs: its result is the JSON the request's body holds.
RESULT_FN = '''
import base64, json
def handler(event, context):
    body = event.get("body") or "null"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body)
'''
CONTEXT_FN = '''
def handler(event, context):
    found = context.client_context
    return {"custom": found.custom if found else None}
'''


@dataclass(frozen=True)
class Deployed:
    port: int
    rest_path: str
    http_path: str
    function: str
    context_function: str
    embedded: bool
    """The emulator runs in this process, so the gateway's log records can be read."""

    def path(self, template: str) -> str:
        return template.format(rest=self.rest_path, http=self.http_path)


@pytest.fixture(scope="module")
def deployed(harness_target, harness_client, iam_role) -> Iterator[Deployed]:
    lam = harness_client("lambda")
    name, context_name = unique("proxy-result"), unique("client-context")
    for fn, source in ((name, RESULT_FN), (context_name, CONTEXT_FN)):
        lam.create_function(FunctionName=fn, Runtime=LOCAL_RUNTIME, Role=iam_role(),
                            Handler="app.handler", Code={"ZipFile": build_zip({"app.py": source})})
    apigateway, v2 = harness_client("apigateway"), harness_client("apigatewayv2")
    rest_id = rest_api(apigateway, lambda_uri(function_arn(name)), [("/result", "POST")])
    http_id = v2.create_api(Name=unique("fuzz-http"), ProtocolType="HTTP")["ApiId"]
    integration = v2.create_integration(ApiId=http_id, IntegrationType="AWS_PROXY",
                                        IntegrationUri=function_arn(name),
                                        PayloadFormatVersion="2.0")["IntegrationId"]
    v2.create_route(ApiId=http_id, RouteKey="POST /result", Target=f"integrations/{integration}")
    v2.create_stage(ApiId=http_id, StageName="$default", AutoDeploy=True)
    for api_id in (rest_id, http_id):
        allow_api(lam, name, api_id)
    try:
        yield Deployed(port=int(harness_target.url.rsplit(":", 1)[1]),
                       rest_path=f"/_aws/execute-api/{rest_id}/test/result",
                       http_path=f"/_aws/execute-api/{http_id}/result", function=name,
                       context_function=context_name,
                       embedded=harness_target.emulator is not None)
    finally:
        apigateway.delete_rest_api(restApiId=rest_id)
        v2.delete_api(ApiId=http_id)
        for fn in (name, context_name):
            lam.delete_function(FunctionName=fn)


def still_serving(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_harness/health", timeout=5) as answer:
        return json.load(answer)["status"] == "running"


# -- garbage requests ----------------------------------------------------------------------------

header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=":\r\n"),
    min_size=1, max_size=30)


@settings(FUZZ, max_examples=150)
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS + DEPLOYED) | st.text(max_size=60).map(lambda t: "/" + t),
    headers=st.lists(st.tuples(header_text, header_text), max_size=6),
    body=st.binary(max_size=2048),
    content_length=st.sampled_from([None, "0", "-1", "abc", "99999999999", "5"]),
)
def test_garbage_requests_get_complete_answers_and_never_a_5xx_from_our_routes(
        deployed, method, path, headers, body, content_length):
    target = deployed.path(path) if path in DEPLOYED else path
    lines = [f"{method} {target} HTTP/1.1".encode("utf-8", "surrogateescape"),
             b"Host: 127.0.0.1"]
    lines += [f"{k}: {v}".encode() for k, v in headers]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}".encode())
    data = exchange(deployed.port, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    # Complete answers only (a body the server did not take as this request's is read as the
    # next request, and answered too); a closed connection without one fails here.
    first = parse_responses(data, head_only=method == "HEAD")[0]
    if path in PATHS or path.startswith("/_harness/"):
        assert first.status < 500, data[:300]
    assert still_serving(deployed.port)


def test_request_line_garbage_is_400(deployed):
    tls_hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"
    assert parse_responses(exchange(deployed.port, tls_hello))[0].status == 400
    assert parse_one(exchange(deployed.port, b"GET\r\n\r\n")).status == 400
    assert still_serving(deployed.port)


def test_oversized_body_is_refused_before_it_is_read(deployed):
    head = (b"POST /2015-03-31/functions/x/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 5000000000\r\n\r\n")
    # 5 GB announced, 1 KiB sent: the answer comes without waiting for the rest.
    assert parse_one(exchange(deployed.port, head + b"x" * 1024)).status == 413
    assert still_serving(deployed.port)


def test_bad_chunked_encoding_is_400(deployed):
    data = exchange(deployed.port, b"POST /_aws/execute-api/a/b/c HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    assert parse_responses(data)[0].status == 400
    assert still_serving(deployed.port)


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe\x00", b"[1, 2", b'"\\ud800"'])
def test_invalid_invoke_payloads_are_handled(deployed, payload):
    data = exchange(deployed.port, b"POST /2015-03-31/functions/no-such-fn/invocations HTTP/1.1\r\n"
                                   b"Host: 127.0.0.1\r\nContent-Length: "
                    + str(len(payload)).encode() + b"\r\n\r\n" + payload)
    assert parse_one(data).status == 404
    assert still_serving(deployed.port)


# -- hostile proxy results through deployed routes --------------------------------------------
# RFC 9110 5.5: CR, LF and NUL are "invalid and dangerous" in a field value; the other controls
# (HTAB aside) are outside its grammar. Non-ASCII text is valid: the gateway sends it as UTF-8.
CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F))
SAFE_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters=CONTROLS),
                    max_size=24)
SAFE_VALUE = SAFE_TEXT | st.sampled_from(["café", "日本語", "\t tabbed ", "Zoë\u2028", "",
                                          "h" * 8192, "h" * 70_000])  # past http.client's line
NAME = st.from_regex(r"X-[A-Za-z0-9-]{1,12}", fullmatch=True) | st.sampled_from(
    ["X-!#$%&'*+.^_`|~", "x-lower"])
SPLITTERS = ["\r\nX-Injected: yes", "\nX-Injected: yes", "\rX-Injected: yes", "\x00", "\x1b",
             "\x7f", "\r\n\r\nHTTP/1.1 200 OK\r\nX-Injected: yes\r\nContent-Length: 0\r\n\r\n"]
BAD_NAMES = ["X Injected", "X-A\r\nX-Injected: yes", "X-A\nX-Injected", "", "X:Y", "Ünï",
             "X\x00", "(x)", "X-A\t"]
BAD_STATUS = [0, 99, 100, 101, 199, 600, 1000, -200, "abc", "20O", "", " 200", "٢٠٠", 200.5,
              True, None, [200], {"code": 200}]
BAD_BODIES = [5, {"a": 1}, [1], True, 2.5]


@dataclass(frozen=True)
class Case:
    """A proxy result, and what the gateway must answer for it."""

    result: Any
    valid: bool
    status: int = 0
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(name, values) that must arrive exactly so (each value as the client reads it)."""
    body: bytes | None = None
    json_body: Any = None


def on_wire(value: str) -> str:
    """A header value as a client reads it: the UTF-8 bytes, as Latin-1, without OWS."""
    return value.encode("utf-8").decode("latin-1").strip(" \t")


def is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@st.composite
def body_parts(draw: st.DrawFn, status: int) -> tuple[dict[str, Any], bytes]:
    kind = draw(st.sampled_from(["text", "base64", "absent"]))
    if kind == "absent":
        return {}, b""
    if kind == "text":
        text = draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=60))
        sent = {"body": text, "isBase64Encoded": False} if draw(st.booleans()) else {"body": text}
        content = text.encode("utf-8")
    else:
        content = draw(st.binary(max_size=60))
        sent = {"body": base64.b64encode(content).decode(), "isBase64Encoded": True}
    return sent, (b"" if status in (204, 304) else content)  # no content in a 204 or 304


@st.composite
def valid_results(draw: st.DrawFn, kind: str) -> Case:
    code = draw(st.integers(200, 599))
    status: Any = str(code) if draw(st.booleans()) else code
    body, content = draw(body_parts(code))
    result: dict[str, Any] = {"statusCode": status, **body}
    expected: list[tuple[str, tuple[str, ...]]] = []
    for name in draw(st.lists(NAME, max_size=4, unique_by=str.lower)):
        if kind == "rest" and draw(st.booleans()):
            values = draw(st.lists(SAFE_VALUE, min_size=1, max_size=3))
            result.setdefault("multiValueHeaders", {})[name] = values
        else:
            values = [draw(SAFE_VALUE)]
            result.setdefault("headers", {})[name] = values[0]
        expected.append((name, tuple(on_wire(v) for v in values)))
    if kind == "http":
        cookies = draw(st.lists(SAFE_VALUE, max_size=3))
        if cookies or draw(st.booleans()):
            result["cookies"] = cookies
        expected.append(("Set-Cookie", tuple(on_wire(c) for c in cookies)))
    return Case(result, True, code, tuple(expected), content)


@st.composite
def poisoned(draw: st.DrawFn, kind: str) -> Case:
    base = draw(valid_results(kind)).result
    where = draw(st.sampled_from(["value", "name", "status", "body", "base64", "flag"]
                                 + (["shape"] if kind == "rest" else [])))
    bad_base64 = where == "base64"
    if where == "value":
        value = draw(SAFE_TEXT) + draw(st.sampled_from(SPLITTERS)) + draw(SAFE_TEXT)
        spot = draw(st.sampled_from(["headers", "multiValueHeaders" if kind == "rest"
                                     else "cookies"]))
        if spot == "headers":
            base.setdefault("headers", {})["X-Poison"] = value
        elif spot == "cookies":
            base["cookies"] = [*base.get("cookies", []), value]
        else:
            base.setdefault("multiValueHeaders", {})["X-Poison"] = ["fine", value]
    elif where == "name":
        spot = draw(st.sampled_from(["headers", "multiValueHeaders"] if kind == "rest"
                                    else ["headers"]))
        bad = draw(st.sampled_from(BAD_NAMES))
        base.setdefault(spot, {})[bad] = "v" if spot == "headers" else ["v"]
    elif where == "status":
        base["statusCode"] = draw(st.sampled_from(BAD_STATUS))
    elif where == "body":
        base["body"] = draw(st.sampled_from(BAD_BODIES))
    elif where == "base64":
        base["body"] = draw(st.text(max_size=12).filter(lambda t: not is_base64(t)))
        base["isBase64Encoded"] = True
    elif where == "flag":
        base["isBase64Encoded"] = draw(st.sampled_from(["true", 1, [True]]))
    else:  # REST only: an HTTP API takes any JSON as the body of a 200
        base = draw(st.sampled_from([base | {"extra": 1}, "a string", [1, 2], 5, None]))
    if kind == "http":
        return Case(base, False, 500, json_body={"message": "Internal Server Error"})
    # API_CONFIGURATION_ERROR (500) for a base64 body that does not decode, else 502.
    return Case(base, False, 500 if bad_base64 else 502,
                json_body={"message": "Internal server error"})


@st.composite
def bare_http_results(draw: st.DrawFn) -> Case:
    """An HTTP API (2.0) result without statusCode is the body of a 200: a string as it is,
    other JSON as its text."""
    text = draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
    if draw(st.booleans()):
        return Case(text, True, 200, body=text.encode("utf-8"))
    value = draw(st.lists(st.integers(), max_size=3)
                 | st.fixed_dictionaries({"message": st.just(text)}))
    return Case(value, True, 200, json_body=value)


def results(kind: str) -> st.SearchStrategy[Case]:
    extra = [bare_http_results()] if kind == "http" else []
    return st.one_of(valid_results(kind), poisoned(kind), *extra)


def post(deployed: Deployed, path: str, result: Any) -> tuple[Response, bytes]:
    body = json.dumps(result).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    data = exchange(deployed.port, head + body)
    return parse_one(data), data


def check(case: Case, response: Response, data: bytes) -> None:
    assert response.values("X-Injected") == [], data[:500]
    assert response.status == case.status, (case.result, data[:500])
    if case.json_body is not None:
        assert json.loads(response.body) == case.json_body, data[:500]
    if case.body is not None:
        assert response.body == case.body
    for name, values in case.headers:
        assert tuple(response.values(name)) == values, (name, data[:500])


def check_logged(case: Case, deployed: Deployed, caplog: pytest.LogCaptureFixture) -> None:
    if deployed.embedded and not case.valid:
        assert f"malformed Lambda proxy response from {function_arn(deployed.function)}" \
            in caplog.text


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(case=results("rest"))
def test_rest_api_proxy_results_are_validated_and_never_split(deployed, caplog, case):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="harness.apigw"):
        response, data = post(deployed, deployed.rest_path, case.result)
    check(case, response, data)
    check_logged(case, deployed, caplog)


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(case=results("http"))
def test_http_api_proxy_results_are_validated_and_never_split(deployed, caplog, case):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="harness.apigw"):
        response, data = post(deployed, deployed.http_path, case.result)
    check(case, response, data)
    check_logged(case, deployed, caplog)


@pytest.mark.parametrize(("path", "kind"), [("rest", "rest"), ("http", "http")])
def test_a_crlf_header_value_is_a_gateway_error_with_no_injected_header(deployed, path, kind):
    result = {"statusCode": 200, "headers": {"X-A": "a\r\nX-Injected: yes"}, "body": "hidden"}
    response, data = post(deployed, deployed.path("{" + path + "}"), result)
    assert response.values("X-Injected") == [] and b"hidden" not in data
    assert response.status == (502 if kind == "rest" else 500)


def test_a_non_latin1_header_value_gets_a_complete_answer_in_utf8(deployed):
    result = {"statusCode": 200, "headers": {"X-Name": "日本 Zoë"}, "body": "ok"}
    for path in (deployed.rest_path, deployed.http_path):
        response, _ = post(deployed, path, result)
        assert (response.status, response.body) == (200, b"ok")
        assert [v.encode("latin-1") for v in response.values("X-Name")] == ["日本 Zoë".encode()]


# -- Invoke's ClientContext reaches a Runtime API header ---------------------------------------

@settings(FUZZ, max_examples=25)
@given(value=st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
       | st.sampled_from(["a\r\nX-Injected: yes", "\x00", "日本\r\n"]))
def test_client_context_with_any_text_is_carried_intact(deployed, lambda_client, value):
    # Escaped in the JSON the runtime gets, so no character can split its header; the CRLF
    # between tokens is whitespace the re-serialisation drops.
    document = json.dumps({"custom": {"k": value}}, ensure_ascii=False) + "\r\n"
    answer = lambda_client.invoke(
        FunctionName=deployed.context_function,
        ClientContext=base64.b64encode(document.encode()).decode())
    assert "FunctionError" not in answer
    assert json.load(answer["Payload"]) == {"custom": {"k": value}}


def test_client_context_with_a_raw_newline_in_a_string_is_refused(deployed, lambda_client):
    raw = b'{"custom": {"k": "a\r\nX-Injected: yes"}}'  # not JSON: a raw control in a string
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=deployed.context_function,
                             ClientContext=base64.b64encode(raw).decode())
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
