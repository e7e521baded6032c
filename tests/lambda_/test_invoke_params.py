"""Invoke's parameter checks, without sockets: names, qualifiers, client context, payload."""

from __future__ import annotations

import base64

import pytest

from harness.errors import InvalidParameterError, InvalidRequestContentError
from harness.lambda_.invoke_params import (
    CLIENT_CONTEXT_MAX,
    FunctionName,
    check_payload,
    check_qualifier,
    client_context_json,
    parse_function_name,
)


@pytest.mark.parametrize(("given", "parsed"), [
    ("fn", FunctionName("fn")),
    ("fn:live", FunctionName("fn", "live")),
    ("123456789012:function:fn", FunctionName("fn", account="123456789012")),
    ("arn:aws:lambda:eu-west-2:123456789012:function:fn:$LATEST",
     FunctionName("fn", "$LATEST", "eu-west-2", "123456789012")),
])
def test_function_names_and_arns_are_split_into_their_parts(given, parsed):
    assert parse_function_name(given) == parsed


@pytest.mark.parametrize("given", ["", "a:b:c", "fn/x", "arn:aws:lambda:us-east-1:abc:function:x",
                                   "x" * 171])
def test_a_name_aws_would_refuse_is_a_validation_exception(given):
    with pytest.raises(InvalidParameterError) as caught:
        parse_function_name(given)
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400


@pytest.mark.parametrize("qualifier", ["", "a:b", "x" * 129, "v 1"])
def test_a_bad_qualifier_is_a_validation_exception(qualifier):
    with pytest.raises(InvalidParameterError):
        check_qualifier(qualifier)


def test_client_context_is_decoded_to_compact_ascii_json():
    raw = base64.b64encode('{"custom": {"k": "é\\n"}}'.encode()).decode()
    assert client_context_json(raw) == '{"custom":{"k":"\\u00e9\\n"}}'
    assert client_context_json(None) is None


TOO_LONG = base64.b64encode(b'{"k": "%s"}' % (b"x" * CLIENT_CONTEXT_MAX)).decode()


@pytest.mark.parametrize("raw", ["%%%", base64.b64encode(b"[]").decode(),
                                 base64.b64encode(b"{nope").decode(),
                                 base64.b64encode(b"\xff").decode(), TOO_LONG])
def test_a_client_context_that_is_not_base64_of_an_object_is_refused(raw):
    with pytest.raises(InvalidRequestContentError, match="Base64-encoded JSON object"):
        client_context_json(raw)


@pytest.mark.parametrize("payload", [b"", b"{}", b"null", b'"\\ud800"', b"[1]"])
def test_json_payloads_pass(payload):
    check_payload(payload)


@pytest.mark.parametrize("payload", [b"{", b"\xff", b"[" * 100_000])
def test_a_payload_that_is_not_json_is_refused(payload):
    with pytest.raises(InvalidRequestContentError, match="Could not parse request body"):
        check_payload(payload)
