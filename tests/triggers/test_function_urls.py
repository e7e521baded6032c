"""Function URLs through the session emulator, with plain boto3 and raw HTTP: the URL in
LocalStack's form, payload 2.0 with ``$default``, AWS's result mapping and errors, AuthType NONE
(the resource policy) and AWS_IAM (SigV4), CORS, throttling, and CloudFormation's
``AWS::Lambda::Url`` through SAM.

``*.localhost.localstack.cloud`` may not resolve offline, so requests go to 127.0.0.1 with the
URL's name in ``Host``, as a resolver would send them.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import LOCAL_RUNTIME
from tests.emulator.support import raw_request

# Answers by the ?mode= of the request; by default echoes the event it got.
FUNCTION = '''
import base64, json
def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode", "echo")
    if mode == "raise":
        raise RuntimeError("asked to fail")
    if mode == "list":
        return ["hello", 3, True]
    if mode == "string":
        return "hello"
    if mode == "bare":
        return {"hello": "world"}
    if mode == "malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "custom":
        return {"statusCode": "418", "headers": {"My-Custom-Header": "Custom Value"},
                "cookies": ["a=1; Max-Age=60", "b=2"], "body": "i'm a teapot"}
    if mode == "binary":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\\x89PNG\\x00\\xff").decode(), "isBase64Encoded": True}
    if mode == "cors":
        return {"statusCode": 200, "body": "own cors",
                "headers": {"Access-Control-Allow-Origin": "http://the-function-says.example",
                            "Access-Control-Allow-Headers": "x-own", "X-Marker": "function"}}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"event": event, "request_id": context.aws_request_id,
                                "arn": context.invoked_function_arn})}
'''
FORBIDDEN = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
             "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")
APP = "http://app.example"


def grant_public(lam: Any, name: str) -> None:
    """The two statements a NONE URL needs since October 2025 (what SAM and the console add)."""
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    lam.add_permission(FunctionName=name, StatementId="invoke", Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)


def call(url: str, port: int, path: str = "/", method: str = "GET",
         headers: list[tuple[str, str]] | None = None,
         body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """``method url+path`` sent to 127.0.0.1:port with the URL's name as Host; header names
    lower-cased (repeated ones joined with a newline)."""
    host = urlsplit(url).netloc
    status, pairs, raw = raw_request(f"http://127.0.0.1:{port}{path}", method,
                                     [("Host", host), *(headers or [])], body)
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        joined[key] = f"{joined[key]}\n{value}" if key in joined else value
    return status, joined, raw


def signed(url: str, path: str, secret: tuple[str, str], *, method: str = "GET",
           body: bytes = b"", service: str = "lambda", region: str = "us-east-1",
           headers: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """``headers`` and those botocore's SigV4 signer adds for a request to ``url + path``."""
    request = AWSRequest(method=method, url=url.rstrip("/") + path, data=body,
                         headers=headers or {})
    SigV4Auth(Credentials(*secret), service, region).add_auth(request)
    return list(request.headers.items())


@pytest.fixture
def port(harness_endpoint) -> int:
    """The endpoint's port: the one function URLs name."""
    return int(urlsplit(harness_endpoint).port or 80)


@pytest.fixture
def url_of(lambda_client, create_function):
    """Factory: a function running FUNCTION with a URL; returns (name, URL)."""

    def make(auth: str = "NONE", public: bool = True, **config: Any) -> tuple[str, str]:
        name = create_function({"app.py": FUNCTION})
        url = lambda_client.create_function_url_config(FunctionName=name, AuthType=auth,
                                                       **config)["FunctionUrl"]
        if public and auth == "NONE":
            grant_public(lambda_client, name)
        return name, url

    return make


def test_the_url_has_localstacks_form_and_the_control_plane_answers_as_aws(
        lambda_client, create_function, port) -> None:
    name = create_function({"app.py": FUNCTION})
    made = lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    url = made["FunctionUrl"]
    url_id = url.split("//")[1].split(".")[0]
    assert url == f"http://{url_id}.lambda-url.us-east-1.localhost.localstack.cloud:{port}/"
    assert len(url_id) == 32 and url_id.isalnum() and url_id.islower()
    got = lambda_client.get_function_url_config(FunctionName=name)
    assert (got["FunctionUrl"], got["AuthType"], got["InvokeMode"]) == (url, "NONE", "BUFFERED")
    listed = lambda_client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]

    updated = lambda_client.update_function_url_config(
        FunctionName=name, AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM",
        Cors={"AllowOrigins": [APP]})
    assert (updated["FunctionUrl"], updated["AuthType"], updated["InvokeMode"],
            updated["Cors"]["AllowOrigins"]) == (url, "AWS_IAM", "RESPONSE_STREAM", [APP])

    with pytest.raises(lambda_client.exceptions.ResourceConflictException):
        lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    with pytest.raises(lambda_client.exceptions.ClientError) as bad:
        lambda_client.update_function_url_config(FunctionName=name, InvokeMode="UNKNOWN")
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    assert "[RESPONSE_STREAM, BUFFERED]" in bad.value.response["Error"]["Message"]

    lambda_client.delete_function_url_config(FunctionName=name)
    assert lambda_client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_url_config(FunctionName=name)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.delete_function_url_config(FunctionName=name)


def test_an_aliases_url_invokes_the_alias_under_the_aliases_own_policy(
        lambda_client, create_function, port) -> None:
    name = create_function({"app.py": FUNCTION})
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    made = lambda_client.create_function_url_config(FunctionName=name, Qualifier="live",
                                                    AuthType="NONE")
    assert made["FunctionArn"].endswith(f":function:{name}:live")
    plain = lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert plain["FunctionUrl"] != made["FunctionUrl"]
    listed = lambda_client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert sorted(c["FunctionUrl"] for c in listed) == sorted(
        [made["FunctionUrl"], plain["FunctionUrl"]])
    got = lambda_client.get_function_url_config(FunctionName=name, Qualifier="live")
    assert got["FunctionUrl"] == made["FunctionUrl"]
    with pytest.raises(lambda_client.exceptions.ClientError) as numeric:
        lambda_client.get_function_url_config(FunctionName=name, Qualifier=version)
    assert numeric.value.response["Error"]["Code"] == "ValidationException"

    grant_public(lambda_client, name)  # the function's own statements do not open the alias
    assert call(made["FunctionUrl"], port)[0] == 403
    assert call(plain["FunctionUrl"], port)[0] == 200
    for statement, action, extra in (("url-live", "lambda:InvokeFunctionUrl",
                                      {"FunctionUrlAuthType": "NONE"}),
                                     ("invoke-live", "lambda:InvokeFunction",
                                      {"InvokedViaFunctionUrl": True})):
        lambda_client.add_permission(FunctionName=name, Qualifier="live", Principal="*",
                                     StatementId=statement, Action=action, **extra)
    status, _, body = call(made["FunctionUrl"], port)
    assert status == 200 and json.loads(body)["arn"].endswith(f":function:{name}:live")
    lambda_client.delete_function_url_config(FunctionName=name, Qualifier="live")
    assert call(made["FunctionUrl"], port)[0] == 403


def test_a_get_by_the_urls_name_gets_payload_2_0_with_default(url_of, port) -> None:
    _name, url = url_of()
    url_id = urlsplit(url).hostname.split(".")[0]
    status, headers, body = call(url, port, "/items/42?a=1&a=2&b=x", headers=[
        ("Cookie", "c1=v1; c2=v2"), ("User-Agent", "furl-test/1"), ("X-Custom", "yes")])
    assert status == 200, body
    assert headers["content-type"] == "application/json" and headers["x-amzn-requestid"]
    event = json.loads(body)["event"]
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0", "$default", "/items/42", "a=1&a=2&b=x")
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "pathParameters" not in event and "stageVariables" not in event
    assert "body" not in event and event["isBase64Encoded"] is False
    assert event["headers"]["x-custom"] == "yes" and "cookie" not in event["headers"]
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["x-forwarded-port"] == str(port)
    context = event["requestContext"]
    assert (context["routeKey"], context["stage"], context["apiId"], context["domainPrefix"]) == (
        "$default", "$default", url_id, url_id)
    assert context["domainName"] == urlsplit(url).hostname
    assert context["accountId"] == "123456789012" and "authorizer" not in context
    assert context["http"] == {"method": "GET", "path": "/items/42", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "furl-test/1"}


def test_post_bodies_text_as_text_binary_and_forms_base64(url_of, port) -> None:
    _name, url = url_of()
    text = json.dumps({"key": "value"}).encode()
    status, _, body = call(url, port, "/", "POST", [("Content-Type", "application/json")], text)
    event = json.loads(body)["event"]
    assert status == 200 and (event["body"], event["isBase64Encoded"]) == (text.decode(), False)
    raw = bytes(range(256))
    status, _, body = call(url, port, "/", "POST",
                           [("Content-Type", "application/octet-stream")], raw)
    event = json.loads(body)["event"]
    assert status == 200 and event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    form = b"a=1&b=two"
    status, _, body = call(url, port, "/", "POST",
                           [("Content-Type", "application/x-www-form-urlencoded")], form)
    event = json.loads(body)["event"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == form


@pytest.mark.parametrize(("mode", "expected"), [
    ("bare", b'{"hello":"world"}'), ("list", b'["hello",3,true]'), ("string", b"hello")])
def test_a_result_without_status_code_is_a_200_json_body(url_of, port, mode, expected) -> None:
    _name, url = url_of()
    status, headers, body = call(url, port, f"/?mode={mode}")
    assert (status, headers["content-type"], body.replace(b" ", b"")) == (
        200, "application/json", expected)


def test_status_headers_cookies_and_base64_bodies_are_mapped(url_of, port) -> None:
    _name, url = url_of()
    status, headers, body = call(url, port, "/?mode=custom")
    assert (status, body) == (418, b"i'm a teapot")
    assert headers["my-custom-header"] == "Custom Value"
    assert headers["content-type"] == "application/json"  # none given: AWS says JSON
    assert headers["set-cookie"].split("\n") == ["a=1; Max-Age=60", "b=2"]
    status, headers, body = call(url, port, "/?mode=binary")
    assert (status, headers["content-type"], body) == (200, "image/png", b"\x89PNG\x00\xff")


@pytest.mark.parametrize("mode", ["raise", "malformed"])
def test_a_failed_function_or_unmappable_result_is_502(url_of, port, mode) -> None:
    _name, url = url_of()
    status, _, body = call(url, port, f"/?mode={mode}")
    assert (status, body) == (502, b"Internal Server Error")


def test_an_unknown_url_id_is_403_with_a_null_message(port) -> None:
    # AWS-recorded (LocalStack's validated test_lambda_url_non_existing_url): 403, not 404.
    host = f"{'0' * 32}.lambda-url.us-east-1.localhost.localstack.cloud:{port}"
    status, headers, body = call(f"http://{host}/", port)
    assert (status, json.loads(body)) == (403, {"Message": None})
    assert headers["x-amzn-errortype"] == "AccessDeniedException"


def test_a_none_url_needs_both_public_permissions(url_of, lambda_client, port) -> None:
    name, url = url_of(public=False)
    status, headers, body = call(url, port)
    assert (status, json.loads(body)) == (403, {"Message": FORBIDDEN})
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    lambda_client.add_permission(FunctionName=name, StatementId="url", Principal="*",
                                 Action="lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE")
    assert call(url, port)[0] == 403  # since October 2025 InvokeFunction is needed too
    lambda_client.add_permission(FunctionName=name, StatementId="invoke", Principal="*",
                                 Action="lambda:InvokeFunction", InvokedViaFunctionUrl=True)
    assert call(url, port)[0] == 200
    policy = json.loads(lambda_client.get_policy(FunctionName=name)["Policy"])
    assert [s.get("Condition") for s in policy["Statement"]] == [
        {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}]


def test_an_aws_iam_url_refuses_unsigned_and_takes_sigv4(url_of, port) -> None:
    _name, url = url_of(auth="AWS_IAM")
    status, headers, body = call(url, port, "/who?x=1")
    assert (status, json.loads(body)) == (403, {"Message": FORBIDDEN})
    assert headers["x-amzn-errortype"] == "AccessDeniedException"

    status, _, body = call(url, port, "/who?x=1", headers=signed(url, "/who?x=1", ("test", "t")))
    assert status == 200, body
    iam = json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]
    assert (iam["accessKey"], iam["accountId"]) == ("test", "123456789012")
    assert set(iam) == {"accessKey", "accountId", "callerId", "cognitoIdentity",
                        "principalOrgId", "userArn", "userId"}

    posted = b'{"n": 1}'
    status, _, body = call(url, port, "/p", "POST", signed(
        url, "/p", ("test", "t"), method="POST", body=posted,
        headers={"Content-Type": "application/json"}), posted)
    assert status == 200 and json.loads(body)["event"]["body"] == posted.decode()

    status, headers, body = call(url, port, "/", headers=signed(url, "/", ("test", "t"),
                                                                 service="execute-api"))
    assert status == 403 and headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert "scoped to correct service" in json.loads(body)["Message"]


def test_an_iam_users_key_is_checked_against_its_secret(url_of, harness_client, port) -> None:
    _name, url = url_of(auth="AWS_IAM")
    iam = harness_client("iam")
    user = f"furl-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        good = (key["AccessKeyId"], key["SecretAccessKey"])
        status, _, body = call(url, port, "/", headers=signed(url, "/", good))
        assert status == 200, body
        caller = json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]
        assert (caller["accessKey"], caller["userArn"]) == (key["AccessKeyId"], arn)

        wrong = (key["AccessKeyId"], "not-" + key["SecretAccessKey"])
        status, headers, body = call(url, port, "/", headers=signed(url, "/", wrong))
        assert status == 403 and headers["x-amzn-errortype"] == "InvalidSignatureException"
        assert json.loads(body)["Message"].startswith("The request signature we calculated")
        tampered = signed(url, "/", good)
        status, _, _ = call(url, port, "/?extra=1", headers=tampered)  # not what was signed
        assert status == 403
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=user)


def test_cors_preflight_is_answered_by_the_url_and_answers_carry_the_config(url_of,
                                                                             port) -> None:
    _name, url = url_of(auth="AWS_IAM", Cors={
        "AllowOrigins": [APP], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
        "ExposeHeaders": ["x-marker"], "MaxAge": 300, "AllowCredentials": True})
    # A browser does not sign its preflight: the URL answers it before any auth, unrun.
    status, headers, body = call(url, port, "/", "OPTIONS", [
        ("Origin", APP), ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "x-token")])
    assert (status, body) == (204, b"") and "x-marker" not in headers
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-allow-headers"] == "x-token"
    assert headers["access-control-max-age"] == "300"

    path = "/?mode=cors"
    status, headers, body = call(url, port, path, headers=[
        ("Origin", APP), *signed(url, path, ("test", "t"))])
    assert (status, body, headers["x-marker"]) == (200, b"own cors", "function")
    assert headers["access-control-allow-origin"] == APP  # the configuration wins
    assert headers["access-control-expose-headers"] == "x-marker"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-headers"] == "x-own"  # no conflict: the function's


def test_reserved_concurrency_zero_throttles_the_url_with_429(url_of, lambda_client,
                                                             port) -> None:
    name, url = url_of()
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    status, headers, _ = call(url, port)
    assert status == 429 and headers["x-amzn-errortype"] == "TooManyRequestsException"
    lambda_client.delete_function_concurrency(FunctionName=name)
    assert call(url, port)[0] == 200


def test_an_event_over_6_mb_is_refused_with_413(url_of, port) -> None:
    _name, url = url_of()
    body = b"\xff" * (5 * 1024 * 1024)  # base64 in the event makes it about 6.7 MB
    status, headers, _ = call(url, port, "/", "POST",
                              [("Content-Type", "application/octet-stream")], body)
    assert status == 413 and headers["x-amzn-errortype"] == "RequestEntityTooLargeException"


def test_a_response_stream_url_answers_buffered(url_of, port) -> None:
    _name, url = url_of(InvokeMode="RESPONSE_STREAM")
    status, _, body = call(url, port, "/?mode=string")
    assert (status, body) == (200, b"hello")


SAM = f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {{"path": event["rawPath"], "route": event["routeKey"]}}
      FunctionUrlConfig:
        AuthType: NONE
        Cors: {{AllowOrigins: ["{APP}"]}}
Outputs:
  Url: {{Value: !GetAtt FnUrl.FunctionUrl}}
"""


def test_sams_function_url_config_answers_at_its_getatt_url(harness_client, port) -> None:
    cfn = harness_client("cloudformation")
    name = f"furl-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=SAM, Capabilities=["CAPABILITY_IAM"])
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        url = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Url"]
        assert urlsplit(url).port == port and url.endswith(".localhost.localstack.cloud:"
                                                           f"{port}/")
        # SAM adds both public statements, so the NONE URL answers.
        status, headers, body = call(url, port, "/from/sam", headers=[("Origin", APP)])
        assert (status, json.loads(body)) == (200, {"path": "/from/sam", "route": "$default"})
        assert headers["access-control-allow-origin"] == APP
    finally:
        cfn.delete_stack(StackName=name)


def test_the_url_answers_by_its_own_name_where_it_resolves(url_of) -> None:
    _name, url = url_of()
    try:
        socket.getaddrinfo(urlsplit(url).hostname, None)
    except OSError:
        pytest.skip("*.localhost.localstack.cloud does not resolve here (offline)")
    status, _, body = raw_request(url + "?mode=string")
    assert (status, body) == (200, b"hello")
