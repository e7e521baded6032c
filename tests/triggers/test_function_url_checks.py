"""The function URL's pure parts, without sockets: SigV4 reading and checking, the resource
policy a NONE URL needs, the event and result formats, CORS precedence, the request rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness.apigw import events
from harness.http import HttpRequest, HttpResponse
from harness.triggers import function_url_auth as auth
from harness.triggers import function_url_http as formats
from harness.triggers.function_urls import RequestRate, UrlTarget, parse_host

HOST = "abc123.lambda-url.us-east-1.localhost.localstack.cloud:4566"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
SECRET = ("AKIAEXAMPLE", "s3cr3t")


def as_request(aws: AWSRequest, body: bytes = b"") -> tuple[HttpRequest, str]:
    """The emulator's view of a botocore request, and its raw request target."""
    parts = urlsplit(aws.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = (("Host", HOST), *((k, str(v)) for k, v in aws.headers.items()))
    return HttpRequest(aws.method, parts.path, parts.query, headers, body), target


def signed(path: str = "/a%20b/c?x=1&y=2", method: str = "GET", body: bytes = b"",
           secret: tuple[str, str] = SECRET) -> tuple[HttpRequest, str]:
    aws = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body)
    SigV4Auth(Credentials(*secret), "lambda", "us-east-1").add_auth(aws)
    return as_request(aws, body)


def now() -> datetime:
    return datetime.now(UTC)


# -- SigV4 ---------------------------------------------------------------------------------------

def test_an_unsigned_request_has_no_signature() -> None:
    assert auth.read_signature(HttpRequest("GET", "/", headers=(("Host", HOST),))) is None


def test_a_botocore_signature_is_read_checked_and_verified() -> None:
    request, target = signed(method="POST", body=b'{"a": 1}')
    signature = auth.read_signature(request)
    assert signature is not None and not signature.presigned
    assert (signature.access_key, signature.region, signature.service) == (
        "AKIAEXAMPLE", "us-east-1", "lambda")
    auth.check_scope(signature, "us-east-1", now())
    auth.verify(signature, request, target, SECRET[1])
    with pytest.raises(auth.SignatureRefused) as refused:
        auth.verify(signature, request, target, "another secret")
    assert refused.value.code == "InvalidSignatureException"


def test_a_changed_body_or_path_no_longer_matches() -> None:
    request, target = signed(method="POST", body=b"signed")
    signature = auth.read_signature(request)
    assert signature is not None
    changed = HttpRequest(request.method, request.path, request.query_string, request.headers,
                          b"changed")
    with pytest.raises(auth.SignatureRefused):
        auth.verify(signature, changed, target, SECRET[1])
    with pytest.raises(auth.SignatureRefused):
        auth.verify(signature, request, "/other?x=1&y=2", SECRET[1])


def test_a_presigned_url_is_read_and_verified() -> None:
    aws = AWSRequest(method="GET", url=f"http://{HOST}/p?q=1")
    SigV4QueryAuth(Credentials(*SECRET), "lambda", "us-east-1", expires=60).add_auth(aws)
    request, target = as_request(aws)
    signature = auth.read_signature(request)
    assert signature is not None and signature.expires_s == 60
    auth.check_scope(signature, "us-east-1", now())
    auth.verify(signature, request, target, SECRET[1])
    with pytest.raises(auth.SignatureRefused) as late:
        auth.check_scope(signature, "us-east-1", now() + timedelta(seconds=120))
    assert late.value.message == "Request has expired"


@pytest.mark.parametrize(("header", "found"), [
    ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "a" * 64, "'Credential'"),
    ("AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/lambda/aws4_request, Signature="
     + "a" * 64, "'SignedHeaders'"),
    ("Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256"),
    ("AWS4-HMAC-SHA256 Credential=K/us-east-1/lambda, SignedHeaders=host, Signature="
     + "a" * 64, "aws4_request"),
])
def test_a_malformed_authorization_is_refused_naming_what_is_wrong(header, found) -> None:
    request = HttpRequest("GET", "/", headers=(("Authorization", header),
                                               ("X-Amz-Date", "20240101T000000Z")))
    with pytest.raises(auth.SignatureRefused) as refused:
        auth.read_signature(request)
    assert found in refused.value.message


def test_scope_and_time_are_checked() -> None:
    request, _ = signed()
    signature = auth.read_signature(request)
    assert signature is not None
    with pytest.raises(auth.SignatureRefused, match="valid region"):
        auth.check_scope(signature, "eu-west-1", now())
    with pytest.raises(auth.SignatureRefused, match="Signature expired"):
        auth.check_scope(signature, "us-east-1", now() + timedelta(minutes=16))
    with pytest.raises(auth.SignatureRefused, match="not yet current"):
        auth.check_scope(signature, "us-east-1", now() - timedelta(minutes=16))
    auth.check_scope(signature, "us-east-1", now() + timedelta(minutes=14))


# -- the resource policy of a NONE URL -------------------------------------------------------------

URL_GRANT = {"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
             "Resource": ARN, "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}
INVOKE_GRANT = {"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
                "Resource": ARN, "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}


@pytest.mark.parametrize(("statements", "missing"), [
    ([], ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"]),
    ([URL_GRANT], ["lambda:InvokeFunction"]),
    ([URL_GRANT, INVOKE_GRANT], []),
    ([{**URL_GRANT, "Action": "lambda:*", "Condition": None}], []),
    ([{**URL_GRANT, "Principal": {"AWS": "*"}}, INVOKE_GRANT], []),
    ([URL_GRANT, INVOKE_GRANT, {**INVOKE_GRANT, "Effect": "Deny"}], ["lambda:InvokeFunction"]),
    ([URL_GRANT, {**INVOKE_GRANT, "Principal": "123456789012"}], ["lambda:InvokeFunction"]),
    ([URL_GRANT, {**INVOKE_GRANT, "Condition": {"ArnLike": {"AWS:SourceArn": "arn:x"}}}],
     ["lambda:InvokeFunction"]),
    ([URL_GRANT, {**INVOKE_GRANT, "Resource": ARN + ":prod"}], ["lambda:InvokeFunction"]),
    ([{**URL_GRANT, "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}},
      INVOKE_GRANT], ["lambda:InvokeFunctionUrl"]),
])
def test_a_none_url_needs_both_actions_allowed_to_everyone(statements, missing) -> None:
    assert auth.missing_public_access(statements, ARN) == missing


# -- formats -------------------------------------------------------------------------------------

def test_the_event_has_the_function_url_differences_and_the_iam_caller() -> None:
    request = HttpRequest("GET", "/x", "a=1", (("Host", HOST), ("X-Forwarded-For", "10.0.0.9")))
    iam = formats.iam_identity("AKIA1", "111122223333", "arn:aws:iam::111122223333:user/u",
                               "AIDA1")
    event = formats.build_event(request, url_id="abc123", account_id="123456789012",
                                request_id="r-1", now_epoch_ms=0, iam=iam)
    context = event["requestContext"]
    assert (event["routeKey"], context["routeKey"], context["stage"]) == ("$default",) * 3
    assert (context["apiId"], context["domainPrefix"]) == ("abc123", "abc123")
    assert context["domainName"] == HOST.split(":")[0]
    assert context["authorizer"] == {"iam": iam}
    assert "pathParameters" not in event and "stageVariables" not in event
    assert event["headers"]["x-forwarded-for"] == "10.0.0.9, 127.0.0.1"
    assert event["headers"]["x-forwarded-port"] == "4566"
    assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-")


def test_a_result_is_json_unless_it_says_otherwise() -> None:
    assert formats.map_result(b'{"statusCode": 201, "body": "x"}').headers[0] == (
        "Content-Type", "application/json")
    typed = formats.map_result(b'{"statusCode": 200, "headers": {"content-type": "text/csv"}}')
    assert dict(typed.headers) == {"content-type": "text/csv"}
    with pytest.raises(events.MalformedProxyResponse):
        formats.map_result(b'{"statusCode": "teapot"}')


def test_configured_cors_headers_win_and_the_functions_others_stay() -> None:
    config = formats.cors_config({"AllowOrigins": ["http://a.example"],
                                  "ExposeHeaders": ["x-one"]})
    assert config is not None and config.allow_origins == ("http://a.example",)
    request = HttpRequest("GET", "/", headers=(("Origin", "http://a.example"),))
    response = HttpResponse(200, (("Access-Control-Allow-Origin", "http://fn.example"),
                                  ("Access-Control-Allow-Headers", "x-own"), ("X-A", "1")))
    headers = dict(formats.with_cors(config, request, response).headers)
    assert headers == {"X-A": "1", "Access-Control-Allow-Origin": "http://a.example",
                       "Access-Control-Expose-Headers": "x-one",
                       "Access-Control-Allow-Headers": "x-own"}
    assert formats.cors_config(None) is None and formats.cors_config({}) is None


def test_the_host_names_the_url_and_its_region() -> None:
    assert parse_host(HOST) == UrlTarget("abc123", "us-east-1")
    found = parse_host("ABC.lambda-url.eu-west-2.localhost.localstack.cloud")
    assert found == UrlTarget("abc", "eu-west-2")
    assert parse_host("abc.lambda-url.us-east-1.on.aws") == UrlTarget("abc", "us-east-1")
    for other in ("abc.execute-api.localhost.localstack.cloud", "localhost:4566", None,
                  "abc.lambda-url.nowhere.localhost.localstack.cloud"):
        assert parse_host(other) is None


def test_the_request_rate_is_ten_per_second_per_reserved_unit() -> None:
    clock = [100.0]
    rate = RequestRate(now=lambda: clock[0])
    assert all(rate.admit(ARN, 1) for _ in range(10))
    assert not rate.admit(ARN, 1)
    assert rate.admit(ARN + "2", 1) and rate.admit(ARN, None)
    clock[0] += 1.0
    assert rate.admit(ARN, 1)
