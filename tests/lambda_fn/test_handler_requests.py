"""Refused requests: the event, its fields, bucket names, keys and the bucket allowlist."""

from __future__ import annotations

from typing import Any

import pytest

BUCKET = "features-bucket"


def _refused(result: tuple[int, Any], status: int, error: str) -> str:
    got_status, body = result
    assert (got_status, body.get("error")) == (status, error), body
    assert set(body) == {"message", "error"}
    return body["message"]


@pytest.mark.parametrize(
    ("raw_body", "error", "words"),
    [
        ("{not json", "InvalidJSON", "not valid JSON"),
        ('{"bucket": "b", ', "InvalidJSON", "not valid JSON"),
        ("[1, 2]", "InvalidRequestBody", "got an array"),
        ('"features-bucket/x.npy"', "InvalidRequestBody", "got a string"),
        ("42", "InvalidRequestBody", "got a number"),
        ("null", "InvalidRequestBody", "got null"),
        ("[" * 100_000, "InvalidJSON", "not valid JSON"),
    ],
    ids=["garbage", "truncated", "array", "string", "number", "null", "deep-nesting"],
)
def test_body_that_is_not_a_json_object_is_400(invoke, raw_body, error, words) -> None:
    message = _refused(invoke(raw_body, raw=True), 400, error)
    assert words in message


@pytest.mark.parametrize("body", [None, ""], ids=["null", "empty"])
def test_empty_body_is_400(invoke, body) -> None:
    message = _refused(invoke(body, raw=True), 400, "EmptyBody")
    assert '"bucket"' in message and '"key"' in message


def test_invalid_base64_body_is_400(handler, helpers) -> None:
    event = helpers.proxy_event("not base64 at all!", raw=True)
    event["isBase64Encoded"] = True
    message = _refused(helpers.call(handler, event), 400, "InvalidJSON")
    assert "isBase64Encoded" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [({"key": "x.npy"}, "bucket"), ({"bucket": BUCKET}, "key"), ({}, "bucket")],
)
def test_missing_field_is_400_naming_it(invoke, body, field) -> None:
    message = _refused(invoke(body), 400, "MissingField")
    assert f'"{field}"' in message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"bucket": 5, "key": "x.npy"}, '"bucket" must be a string, got a number'),
        ({"bucket": BUCKET, "key": ["x.npy"]}, '"key" must be a string, got an array'),
        ({"bucket": BUCKET, "key": None}, '"key" must be a string, got null'),
        ({"bucket": True, "key": "x.npy"}, '"bucket" must be a string, got a boolean'),
        ({"bucket": {"name": BUCKET}, "key": "x"}, '"bucket" must be a string, got an object'),
    ],
)
def test_ill_typed_field_is_400(invoke, body, words) -> None:
    assert words in _refused(invoke(body), 400, "InvalidFieldType")


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",
        "x" * 64,
        "Features-Bucket",
        "features_bucket",
        "-features",
        "features-",
        "features..bucket",
        "192.168.1.10",
        "xn--features",
        "features-s3alias",
        "features bucket",
        "",
    ],
)
def test_invalid_bucket_name_is_400(invoke, bucket) -> None:
    message = _refused(invoke({"bucket": bucket, "key": "x.npy"}), 400, "InvalidBucketName")
    assert "bucket names are 3-63" in message


def test_long_invalid_bucket_name_is_not_echoed_in_full(invoke) -> None:
    message = _refused(invoke({"bucket": "B" * 10_000, "key": "x.npy"}), 400, "InvalidBucketName")
    assert len(message) < 400


def test_bucket_not_in_allowlist_is_403(invoke) -> None:
    message = _refused(invoke({"bucket": "other-bucket", "key": "x.npy"}), 403, "BucketNotAllowed")
    assert "'other-bucket'" in message and "ALLOWED_BUCKETS" in message


@pytest.mark.parametrize("allowlist", [None, "", " , ,"], ids=["unset", "empty", "blank-items"])
def test_unconfigured_allowlist_refuses_every_bucket(load_handler, helpers, allowlist) -> None:
    handler = load_handler(ALLOWED_BUCKETS=allowlist)
    event = helpers.proxy_event({"bucket": BUCKET, "key": "x.npy"})
    message = _refused(helpers.call(handler, event), 403, "AllowlistNotConfigured")
    assert "ALLOWED_BUCKETS is not configured" in message


def test_allowlist_is_comma_separated(s3, load_handler, helpers, trained) -> None:
    s3.create_bucket(Bucket="second-bucket")
    s3.put_object(Bucket="second-bucket", Key="h.npy", Body=trained.features_path.read_bytes())
    handler = load_handler(ALLOWED_BUCKETS=f"{BUCKET}, second-bucket")
    status, _ = helpers.call(
        handler, helpers.proxy_event({"bucket": "second-bucket", "key": "h.npy"})
    )
    assert status == 200


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "must not be empty"),
        ("../x.npy", "'..' path segment"),
        ("a/../../etc/passwd.npy", "'..' path segment"),
        ("a/..", "'..' path segment"),
        ("/abs/x.npy", "must not start with '/'"),
        ("a\x00b.npy", "control character (U+0000)"),
        ("a\nb.npy", "control character (U+000A)"),
        ("a\x7fb.npy", "control character (U+007F)"),
        ("a\\b.npy", "backslash"),
        ("k" * 1021 + ".npy", "1025 bytes"),
        ("é" * 511 + ".npy", "1026 bytes"),
        ("bad\ud800.npy", "not valid UTF-8"),
    ],
    ids=[
        "empty",
        "dotdot",
        "dotdot-deep",
        "dotdot-last",
        "absolute",
        "nul",
        "newline",
        "del",
        "backslash",
        "too-long",
        "too-long-utf8",
        "lone-surrogate",
    ],
)
def test_bad_key_is_400(invoke, key, words) -> None:
    message = _refused(invoke({"bucket": BUCKET, "key": key}), 400, "InvalidKey")
    assert words in message


def test_key_of_exactly_1024_bytes_is_allowed_through_validation(invoke) -> None:
    status, body = invoke({"bucket": BUCKET, "key": "k" * 1020 + ".npy"})
    assert (status, body["error"]) == (404, "NoSuchKey")


def test_dots_inside_names_are_not_path_segments(invoke) -> None:
    status, body = invoke({"bucket": BUCKET, "key": "v1..2/x..npy"})
    assert (status, body["error"]) == (404, "NoSuchKey")


@pytest.mark.parametrize("event", [[1, 2], "bucket/key", None, 7])
def test_direct_invoke_event_that_is_not_an_object_is_400(handler, helpers, event) -> None:
    message = _refused(helpers.call(handler, event), 400, "InvalidRequestBody")
    assert "event must be a JSON object" in message


def test_proxy_body_that_is_not_a_string_is_400(handler, helpers) -> None:
    event = helpers.proxy_event(None)
    event["body"] = {"bucket": BUCKET, "key": "x.npy"}
    _refused(helpers.call(handler, event), 400, "InvalidRequestBody")
