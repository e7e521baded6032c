"""Helpers for the emulator's end-to-end tests: an echo function, raw HTTP, a private emulator."""

from __future__ import annotations

import http.client
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from harness.config import EmulatorConfig, GatewayConfig, LambdaConfig
from harness.emulator import Emulator
from tests.conftest import LOCAL_RUNTIME, build_zip

ROLE = "arn:aws:iam::123456789012:role/test-role"
_SESSION = boto3.session.Session()  # one session: each new one loads the service models again
_names = itertools.count()

# A Lambda proxy function: echoes its event; ?mode=... asks for the other kinds of result.
ECHO = '''
import base64, json, os, time
def handler(event, context):
    query = event.get("queryStringParameters") or {}
    mode = query.get("mode", "echo")
    if mode == "raise":
        raise RuntimeError("asked to fail")
    if mode == "sleep":
        time.sleep(float(query.get("s", "1")))
    if mode == "malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "binary":
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": base64.b64encode(b"\\x89PNG\\x00\\xff").decode(), "isBase64Encoded": True}
    if mode == "multi":
        return {"statusCode": 201, "headers": {"X-One": "1"},
                "multiValueHeaders": {"X-Many": ["a", "b"]}, "body": "made"}
    if mode == "cookies":
        return {"statusCode": 202, "cookies": ["a=1", "b=2"], "body": "baked"}
    if mode == "bare":
        return {"just": "json"}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"event": event, "pid": os.getpid(),
                                "arn": context.invoked_function_arn})}
'''


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{next(_names)}-{uuid.uuid4().hex[:6]}"


def function_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:123456789012:function:{name}"


def lambda_uri(arn: str, region: str = "us-east-1") -> str:
    """The integration URI API Gateway wants for a Lambda proxy integration."""
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def raw_request(url: str, method: str = "GET", headers: list[tuple[str, str]] | None = None,
                body: bytes | None = None,
                timeout: float = 30.0) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP request with repeated headers allowed; (status, header pairs, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        has_host = any(name.lower() == "host" for name, _ in headers or [])
        connection.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
        for name, value in headers or []:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def json_body(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy; returns its value, or fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        time.sleep(interval)


def log_messages(logs: Any, name: str) -> list[str]:
    try:
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in found]


@dataclass
class OwnEmulator:
    """A private emulator (moto's state is still the process's one: names must be unique)."""

    emulator: Emulator
    created: list[str] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.emulator.url

    def client(self, service: str) -> Any:
        """A boto3 client of the emulator that never retries (throttles are to be seen)."""
        from botocore.config import Config

        if service not in self._clients:
            self._clients[service] = _SESSION.client(
                service, region_name="us-east-1", endpoint_url=self.url,
                aws_access_key_id="test", aws_secret_access_key="test",
                config=Config(retries={"total_max_attempts": 1}))
        return self._clients[service]

    def create_function(self, files: dict[str, str] | None = None,
                        handler: str = "app.handler", **config: Any) -> str:
        iam = self.client("iam")
        try:
            iam.create_role(RoleName="test-role", AssumeRolePolicyDocument="{}")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        name = unique()
        self.client("lambda").create_function(
            FunctionName=name, Runtime=LOCAL_RUNTIME, Role=ROLE, Handler=handler,
            Code={"ZipFile": build_zip(files or {"app.py": ECHO})}, **config)
        self.created.append(name)
        return name


@contextmanager
def own_emulator(tmp_path: Path, *, lambda_: LambdaConfig | None = None,
                 gateway: GatewayConfig | None = None,
                 **settings: Any) -> Iterator[OwnEmulator]:
    """An emulator of its own, for settings the session's emulator must not have."""
    config = EmulatorConfig(port=0, state_dir=tmp_path / "own-state",
                            lambda_=lambda_ or LambdaConfig(),
                            gateway=gateway or GatewayConfig(), **settings)
    with Emulator(config) as emulator:
        own = OwnEmulator(emulator)
        try:
            yield own
        finally:
            lam = own.client("lambda")
            for name in own.created:
                lam.delete_function(FunctionName=name)


def allow_api(lam: Any, function: str, api_id: str, region: str = "us-east-1") -> None:
    """Let API Gateway invoke ``function`` for any stage, method and path of ``api_id``: the
    lambda:InvokeFunction permission AWS requires (the console adds it; SDKs must)."""
    lam.add_permission(FunctionName=function, StatementId=f"apigateway-{api_id}",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{region}:123456789012:{api_id}/*")


def rest_api(apigateway: Any, uri: str, routes: list[tuple[str, str]], *, stage: str = "test",
             variables: dict[str, str] | None = None,
             binary_media_types: list[str] | None = None) -> str:
    """A deployed REST API whose ``routes`` ((path, method) pairs) are Lambda proxies to ``uri``."""
    api_id = apigateway.create_rest_api(name=unique("api"))["id"]
    # moto ignores binaryMediaTypes on CreateRestApi and stores a PATCH "add" by its value
    # (AWS reads the escaped path), so both are sent.
    if binary_media_types:
        apigateway.update_rest_api(restApiId=api_id, patchOperations=[
            {"op": "add", "path": "/binaryMediaTypes/" + kind.replace("/", "~1"), "value": kind}
            for kind in binary_media_types])
    ids = {item["path"]: item["id"] for item in apigateway.get_resources(restApiId=api_id)["items"]}
    for path, method in routes:
        parent = "/"
        for part in path.strip("/").split("/"):
            here = f"{parent.rstrip('/')}/{part}"
            if here not in ids:
                ids[here] = apigateway.create_resource(
                    restApiId=api_id, parentId=ids[parent], pathPart=part)["id"]
            parent = here
        apigateway.put_method(restApiId=api_id, resourceId=ids[path], httpMethod=method,
                              authorizationType="NONE")
        apigateway.put_integration(restApiId=api_id, resourceId=ids[path], httpMethod=method,
                                   type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    apigateway.create_deployment(restApiId=api_id, stageName=stage, variables=variables or {})
    return api_id
