"""A web page cannot drive `harness up`: not by DNS rebinding (a foreign Host), not by a
cross-origin "simple" request (a foreign Origin), on the emulator and on a Runtime API. Users'
own APIs (execute-api) still answer browser apps of any origin.

Everything goes through a real `harness up` subprocess, started with ``--allow-host`` and
``--allow-origin`` so that those options are exercised too.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import psutil
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.cli.up_process import harness_cmd
from tests.conftest import LOCAL_RUNTIME, ROLE, build_zip
from tests.emulator.support import allow_api, lambda_uri, raw_request

ATTACKER_HOST = "rebind.attacker.example"
EVIL = "http://evil.example"
ADDED_HOST = "dev.example.test"
ADDED_ORIGIN = "http://app.example.test"
FUNCTION = "foreign-pages-fn"
BUCKET = "foreign-pages-bucket"
# Appends one line per run to MARK_FILE, so a test can tell whether the function ran. Given
# {"probe": [headers, ...]}, it asks its own Runtime API with each set of headers instead (from
# inside the environment: the Runtime API refuses any other process before it looks at Host).
MARKER = '''
import os, urllib.error, urllib.request
def handler(event, context):
    if isinstance(event, dict) and "probe" in event:
        return [ask(headers) for headers in event["probe"]]
    with open(os.environ["MARK_FILE"], "a") as marks:
        marks.write(context.aws_request_id + "\\n")
    return {"statusCode": 200, "body": "ran",
            "headers": {"Access-Control-Allow-Origin": "http://the-function-says.example"}}
def ask(headers):
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    # An id that is no invocation: a request that passes the checks gets 400, and takes nothing.
    request = urllib.request.Request(
        f"http://{api}/2018-06-01/runtime/invocation/no-such-id/response", data=b"{}",
        headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return [response.status, response.read().decode()]
    except urllib.error.HTTPError as error:
        return [error.code, error.read().decode()]
'''


@dataclass
class Up:
    process: subprocess.Popen
    url: str
    marks: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def client(self, service: str, host: str | None = None) -> Any:
        """A boto3 client of the emulator; with ``host``, every request says that Host."""
        client = boto3.client(service, region_name="us-east-1", endpoint_url=self.url,
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(retries={"total_max_attempts": 1}))
        if host is not None:
            def rebind(request: Any, **_: Any) -> None:
                request.headers["Host"] = host

            client.meta.events.register("before-send", rebind)
        return client

    def request(self, method: str, path: str, *, host: str | None = None,
                headers: list[tuple[str, str]] | None = None,
                body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        sent = [("Host", host or f"127.0.0.1:{self.port}"), *(headers or [])]
        status, pairs, raw = raw_request(self.url + path, method, sent, body)
        return status, {k.lower(): v for k, v in pairs}, raw

    def runs(self) -> int:
        return len(self.marks.read_text().splitlines()) if self.marks.exists() else 0


def _ready_url(process: subprocess.Popen, stderr: Path) -> str:
    deadline = time.monotonic() + 60  # generous: the first start imports moto and boto3
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        found = re.search(r"ready on (http://\S+)", line)
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
    pytest.fail(f"harness up did not start: {stderr.read_text()}")


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    tmp = tmp_path_factory.mktemp("foreign-pages")
    env = {k: v for k, v in os.environ.items()
           if k not in ("HARNESS_ALLOWED_HOSTS", "HARNESS_ALLOWED_ORIGINS", "AWS_PROFILE")}
    env.update(HARNESS_STATE_DIR=str(tmp / "state"), PYTHONUNBUFFERED="1")
    stderr = tmp / "stderr.txt"
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            harness_cmd("up", "--port", "0", "--allow-host", ADDED_HOST,
                        "--allow-origin", ADDED_ORIGIN),
            env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        running = Up(process, _ready_url(process, stderr), tmp / "marks.txt")
        running.client("iam").create_role(RoleName="test-role", AssumeRolePolicyDocument="{}")
        running.client("lambda").create_function(
            FunctionName=FUNCTION, Runtime=LOCAL_RUNTIME, Role=ROLE, Handler="app.handler",
            Code={"ZipFile": build_zip({"app.py": MARKER})},
            Environment={"Variables": {"MARK_FILE": str(running.marks)}})
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def invoke_path(name: str = FUNCTION) -> str:
    return f"/2015-03-31/functions/{name}/invocations"


def refused_for_host(status: int, body: bytes) -> bool:
    return status == 403 and json.loads(body)["message"] == (
        f"harness: Host {ATTACKER_HOST!r} is not served here; "
        f"add it with harness up --allow-host {ATTACKER_HOST}")


def refused_for_origin(status: int, body: bytes, origin: str = EVIL) -> bool:
    return status == 403 and f"Origin {origin!r} may not use this endpoint" in json.loads(
        body)["message"]


def function_exists(up: Up, name: str) -> bool:
    lam = up.client("lambda")
    try:
        lam.get_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return False
    return True


def fault_rules(up: Up) -> list[dict]:
    return json.loads(up.request("GET", "/_harness/faults")[2])["rules"]


# -- DNS rebinding: a foreign Host -------------------------------------------------------------

def test_a_foreign_host_cannot_create_a_function(up):
    def create(lam: Any) -> None:
        lam.create_function(FunctionName="rebound-fn", Runtime=LOCAL_RUNTIME, Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": build_zip(
                                {"app.py": "def handler(e, c):\n    return 1\n"})})

    with pytest.raises(ClientError) as refused:
        create(up.client("lambda", host=f"{ATTACKER_HOST}:{up.port}"))
    answer = refused.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert answer["Error"]["Message"] == (
        f"harness: Host {ATTACKER_HOST!r} is not served here; "
        f"add it with harness up --allow-host {ATTACKER_HOST}")
    assert not function_exists(up, "rebound-fn")
    # The very same call with this machine's name creates it: the Host alone was refused.
    create(up.client("lambda", host=f"localhost:{up.port}"))
    assert function_exists(up, "rebound-fn")
    up.client("lambda").delete_function(FunctionName="rebound-fn")


def test_a_foreign_host_cannot_invoke_list_or_reach_the_harness_routes(up):
    runs = up.runs()
    status, _, answer = up.request("POST", invoke_path(), host=ATTACKER_HOST, body=b"{}")
    assert refused_for_host(status, answer)
    assert refused_for_host(*_status_body(up.request("GET", "/", host=ATTACKER_HOST)))
    assert refused_for_host(*_status_body(up.request("GET", "/_harness/health",
                                                     host=ATTACKER_HOST)))
    rule = json.dumps({"target": "lambda", "kind": "crash", "function": FUNCTION}).encode()
    assert refused_for_host(*_status_body(up.request("POST", "/_harness/faults",
                                                     host=ATTACKER_HOST, body=rule)))
    assert refused_for_host(*_status_body(up.request("POST", "/_harness/reset",
                                                     host=f"{ATTACKER_HOST}:{up.port}")))
    assert fault_rules(up) == []
    up.client("s3").head_bucket(Bucket=BUCKET)  # not reset
    assert function_exists(up, FUNCTION)
    assert up.runs() == runs


def _status_body(response: tuple[int, dict[str, str], bytes]) -> tuple[int, bytes]:
    return response[0], response[2]


@pytest.mark.parametrize("host", [
    "127.0.0.1", "localhost", "LOCALHOST.", "[::1]", "s3.localhost.localstack.cloud",
    ADDED_HOST, ADDED_HOST.upper() + ".",
])
def test_this_machines_names_and_added_ones_are_served(up, host):
    status, _, answer = up.request("GET", "/_harness/health", host=f"{host}:{up.port}")
    assert status == 200, answer
    assert json.loads(answer)["status"] == "running"


def test_a_request_without_host_is_400_on_http_1_1_and_served_on_http_1_0(up):
    def send(request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", up.port), timeout=30) as sock:
            sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received

    refused = send(b"GET /_harness/health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 400 "), refused[:200]
    assert b"no Host header" in refused
    served = send(b"GET /_harness/health HTTP/1.0\r\n\r\n")
    assert served.startswith(b"HTTP/1.1 200 "), served[:200]


def virtual_hosted_s3(up: Up, domain: str) -> Any:
    """An S3 client addressing buckets as ``<bucket>.<domain>`` (as boto3 does with such an
    endpoint), connected to 127.0.0.1: names below localhost need not resolve on every host."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://{domain}:{up.port}",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(s3={"addressing_style": "virtual"}))

    def to_loopback(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{up.port}"))

    s3.meta.events.register("before-send", to_loopback)
    return s3


@pytest.mark.parametrize("domain", ["localhost", "s3.localhost.localstack.cloud",
                                    "localhost.localstack.cloud"])
def test_virtual_hosted_s3_still_works(up, domain):
    s3 = virtual_hosted_s3(up, domain)
    key = f"virtual/{domain}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"v")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"v"
    assert key in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]


def test_virtual_hosted_s3_under_a_foreign_name_is_refused(up):
    with pytest.raises(ClientError) as refused:
        virtual_hosted_s3(up, ATTACKER_HOST).get_object(Bucket=BUCKET, Key="k")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "is not served here" in refused.value.response["Error"]["Message"]


def test_path_style_s3_by_localhost_still_works(up):
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://localhost:{up.port}",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.put_object(Bucket=BUCKET, Key="path-style", Body=b"p")
    assert s3.get_object(Bucket=BUCKET, Key="path-style")["Body"].read() == b"p"


# -- cross-origin requests from web pages ------------------------------------------------------

def test_a_cross_origin_simple_post_runs_no_function_and_changes_no_state(up):
    runs = up.runs()
    simple = [("Origin", EVIL), ("Content-Type", "text/plain")]
    status, _, answer = up.request("POST", invoke_path(), headers=simple, body=b"{}")
    assert refused_for_origin(status, answer)
    status, _, answer = up.request("POST", "/_harness/reset", headers=simple, body=b"")
    assert refused_for_origin(status, answer)
    rule = json.dumps({"target": "lambda", "kind": "crash", "function": FUNCTION}).encode()
    status, _, answer = up.request("POST", "/_harness/faults", headers=simple, body=rule)
    assert refused_for_origin(status, answer)
    # A preflight for anything else is refused too, so the browser never sends the request.
    status, _, answer = up.request("OPTIONS", "/2015-03-31/functions", headers=[
        ("Origin", EVIL), ("Access-Control-Request-Method", "POST")])
    assert refused_for_origin(status, answer)
    assert fault_rules(up) == []
    up.client("s3").head_bucket(Bucket=BUCKET)
    # Had the refused Invoke run, this run would be the second since `runs`.
    status, _, answer = up.request("POST", invoke_path(), body=b"{}")
    assert status == 200, answer
    assert up.runs() == runs + 1


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:4566",
                                    "http://[::1]:8080", ADDED_ORIGIN])
def test_pages_on_this_machine_and_added_origins_may_invoke(up, origin):
    runs = up.runs()
    status, _, answer = up.request("POST", invoke_path(), body=b"{}", headers=[
        ("Origin", origin), ("Content-Type", "text/plain")])
    assert status == 200, answer
    assert json.loads(answer)["body"] == "ran"
    assert up.runs() == runs + 1


def test_a_cross_site_get_without_origin_is_refused(up):
    # What an <img src> on another site sends: no Origin, Sec-Fetch-Site: cross-site.
    status, _, answer = up.request("GET", "/", headers=[("Sec-Fetch-Site", "cross-site")])
    assert status == 403
    assert "cross-site request" in json.loads(answer)["message"]
    status, _, _ = up.request("GET", "/", headers=[("Sec-Fetch-Site", "same-site")])
    assert status == 200


def test_execute_api_answers_a_page_of_any_origin_with_the_functions_cors_headers(up):
    apigw = up.client("apigateway")
    api_id = apigw.create_rest_api(name="foreign-pages-api")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="run")["id"]
    apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod="POST",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="POST",
                          type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=lambda_uri(f"arn:aws:lambda:us-east-1:123456789012:function:"
                                         f"{FUNCTION}"))
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    allow_api(up.client("lambda"), FUNCTION, api_id)
    browser = [("Origin", EVIL), ("Content-Type", "text/plain"), ("Sec-Fetch-Site", "cross-site")]
    runs = up.runs()
    for path, host in ((f"/_aws/execute-api/{api_id}/dev/run", None),
                       ("/dev/run", f"{api_id}.execute-api.localhost.localstack.cloud:{up.port}")):
        status, headers, answer = up.request("POST", path, host=host, headers=browser, body=b"x")
        assert (status, answer) == (200, b"ran")
        # REST APIs add no CORS headers of their own: the function's pass through unchanged.
        assert headers["access-control-allow-origin"] == "http://the-function-says.example"
    assert up.runs() == runs + 2
    # A foreign Host is refused on users' APIs as everywhere else.
    status, _, answer = up.request("POST", f"/_aws/execute-api/{api_id}/dev/run",
                                   host=ATTACKER_HOST, body=b"x")
    assert refused_for_host(status, answer)
    assert up.runs() == runs + 2
    apigw.delete_rest_api(restApiId=api_id)


# -- a Runtime API -----------------------------------------------------------------------------

def _runtime_api(up: Up) -> str:
    """host:port of a warm environment's Runtime API, as its runtime client was given it."""
    status, _, answer = up.request("POST", invoke_path(), body=b"{}")
    assert status == 200, answer
    for child in psutil.Process(up.process.pid).children(recursive=True):
        try:
            address = child.environ().get("AWS_LAMBDA_RUNTIME_API")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if address:
            return address.split("/", 1)[0]
    pytest.fail("no runtime process with AWS_LAMBDA_RUNTIME_API under harness up")


def test_a_runtime_api_refuses_a_foreign_host_and_a_foreign_page(up):
    status, _, answer = up.request("POST", invoke_path(), body=json.dumps({"probe": [
        {"Host": ATTACKER_HOST}, {"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}, {},
    ]}).encode())
    assert status == 200, answer
    foreign_host, foreign_origin, cross_site, plain = json.loads(answer)
    assert foreign_host[0] == 403
    assert json.loads(foreign_host[1])["errorMessage"].startswith(
        f"harness: Host {ATTACKER_HOST!r}")
    assert foreign_origin[0] == 403
    assert f"Origin {EVIL!r}" in json.loads(foreign_origin[1])["errorMessage"]
    assert cross_site[0] == 403
    # The same request without those headers passes the checks (and finds no such invocation).
    assert plain[0] == 400, plain[1]


def test_a_runtime_api_gives_an_outside_page_no_invocation(up):
    address = _runtime_api(up)
    url = f"http://{address}/2018-06-01/runtime/invocation/next"
    for headers in ([("Host", ATTACKER_HOST)], [("Host", address), ("Origin", EVIL)]):
        status, _, _ = raw_request(url, "GET", headers, timeout=30)
        assert status == 403
    # Neither took an invocation: the function still answers every one.
    runs = up.runs()
    for _ in range(2):
        status, _, answer = up.request("POST", invoke_path(), body=b"{}")
        assert status == 200, answer
    assert up.runs() == runs + 2


# -- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("--allow-host", "bad name!"), "is not a host name"),
    (("--allow-origin", "evil.example"), "is not an origin"),
])
def test_a_bad_allowed_name_or_origin_is_a_one_line_usage_error(args, message):
    done = subprocess.run(harness_cmd("up", "--port", "0", *args), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_allowed_host_in_the_environment_is_a_one_line_error(tmp_path):
    env = dict(os.environ, HARNESS_ALLOWED_HOSTS="ok.example, bad/name",
               HARNESS_STATE_DIR=str(tmp_path))
    done = subprocess.run(harness_cmd("up", "--port", "0"), capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 2
    assert "bad HARNESS_* environment value: 'bad/name' is not a host name" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_says_why_the_options_exist():
    done = subprocess.run(harness_cmd("up", "--help"), capture_output=True, text=True,
                          timeout=60)
    text = " ".join(done.stdout.split())
    assert "--allow-host NAME" in text and "DNS rebinding" in text
    assert "--allow-origin ORIGIN" in text and "cannot invoke functions" in text
