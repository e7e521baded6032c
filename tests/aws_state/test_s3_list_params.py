"""Listing parameters S3 refuses with 400 InvalidArgument naming the argument (moto answered a
500 for a max-keys that is not a number or an unknown continuation token, and cut the listing
for a negative max-keys). Raw requests: boto3 checks MaxKeys is an integer before sending."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from harness.aws_state.s3_list_params import max_keys_problem
from tests.emulator.support import raw_request

_buckets = itertools.count()


@pytest.fixture
def bucket(harness_client: Callable[..., Any]) -> str:
    s3 = harness_client("s3")
    name = f"list-params-{time.time_ns() % 10**9}-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    return name


def error_of(body: bytes) -> dict[str, str]:
    text = body.decode()
    return {tag: found.group(1) for tag in ("Code", "Message", "ArgumentName", "ArgumentValue")
            if (found := re.search(f"<{tag}>(.*?)</{tag}>", text))}


@pytest.mark.parametrize("query", ["list-type=2&", "", "versions&"])
@pytest.mark.parametrize(("value", "name", "message"), [
    ("abc", "max-keys", "Provided max-keys not an integer or within integer range"),
    ("1.5", "max-keys", "Provided max-keys not an integer or within integer range"),
    ("99999999999", "max-keys", "Provided max-keys not an integer or within integer range"),
    ("-1", "maxKeys", "Argument maxKeys must be an integer between 0 and 2147483647"),
])
def test_a_bad_max_keys_is_refused_naming_it(harness_endpoint: str, bucket: str, query: str,
                                             value: str, name: str, message: str) -> None:
    status, _, body = raw_request(f"{harness_endpoint}/{bucket}?{query}max-keys={quote(value)}")
    assert status == 400, body
    assert error_of(body) == {"Code": "InvalidArgument", "Message": message,
                              "ArgumentName": name, "ArgumentValue": value}


def test_max_keys_zero_and_a_good_value_still_list(harness_client: Callable[..., Any],
                                                   bucket: str) -> None:
    s3 = harness_client("s3")
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=0)["KeyCount"] == 0
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["a", "b"]
    rest = s3.list_objects_v2(Bucket=bucket, ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == ["c"]


def test_an_unknown_continuation_token_is_refused(harness_client: Callable[..., Any],
                                                  bucket: str) -> None:
    s3 = harness_client("s3")
    with pytest.raises(s3.exceptions.ClientError) as caught:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="never-given")
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidArgument", "The continuation token provided is incorrect")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_max_keys_values_as_s3_reads_them() -> None:
    for taken in (None, "0", "1", "1000", "2147483647", "5000"):
        assert max_keys_problem(taken) is None, taken
    for refused in ("", " ", " 5", "abc", "+5", "5_0", "0x10", "1e3", "2147483648", "--1", "٣",
                    "9" * 5000):
        assert max_keys_problem(refused) is not None, refused
    negative = max_keys_problem("-7")
    assert negative is not None and negative.argument_name == "maxKeys"  # type: ignore[attr-defined]
