"""S3 faults over real HTTP: boto3 sees S3's own errors, and the ML function handles them."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture
def faults(harness_faults):
    harness_faults.clear()  # the plugin's fixture: cleared again when the test ends
    return harness_faults


@pytest.fixture
def s3(harness_client):
    return harness_client("s3", region_name="eu-west-2",
                          config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def bucket(s3):
    name = "fault-bucket"
    try:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=name, Key="k", Body=b"data")
    return name


@pytest.mark.parametrize("code, status", [("SlowDown", 503), ("InternalError", 500),
                                          ("NoSuchKey", 404)])
def test_s3_error_reaches_boto3_with_its_code(faults, s3, bucket, code, status):
    faults.add({"target": "s3", "kind": "error", "error": code, "operations": ["GetObject"],
                "bucket": bucket})
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k")
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    faults.clear()
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_error_on_a_given_call_only(faults, s3, bucket):
    faults.add({"target": "s3", "kind": "error", "error": "InternalError",
                "operations": ["GetObject"], "calls": [2]})
    s3.get_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="k")
    s3.get_object(Bucket=bucket, Key="k")
    [rule] = faults.report()
    assert rule["hits"] == 1 and rule["matched"] == 3


def test_latency_is_added_to_matching_calls(faults, s3, bucket):
    faults.add({"target": "s3", "kind": "latency", "latency_ms": 300,
                "operations": ["GetObject"]})
    started = time.perf_counter()
    s3.get_object(Bucket=bucket, Key="k")
    assert time.perf_counter() - started >= 0.3


def test_bad_rule_is_a_clear_error(faults):
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="s3 error must be one of"):
        faults.add({"target": "s3", "kind": "error", "error": "Nope"})


def test_function_recovers_from_slowdown_and_reports_missing_key(faults, harness_stack,
                                                                 harness_client, harness_http):
    s3 = harness_client("s3", region_name=harness_stack.region)
    buffer = io.BytesIO()
    np.save(buffer, np.array([[5.1, 3.5, 1.4, 0.2]]))
    s3.put_object(Bucket=harness_stack.bucket, Key="faults/one.npy", Body=buffer.getvalue())
    payload = {"bucket": harness_stack.bucket, "key": "faults/one.npy"}
    # One SlowDown: the function's boto3 retries it, as on AWS, and the caller sees a success.
    faults.add({"target": "s3", "kind": "error", "error": "SlowDown", "operations": ["GetObject"],
                "key": "faults/*", "times": 1})
    status, body = harness_http.post_json(harness_stack.invoke_url, payload)
    assert status == 200 and len(body["predictions"]) == 1
    assert faults.report()[0]["hits"] == 1
    faults.clear()
    # NoSuchKey injected: the function answers its own clear 404, and the next request succeeds.
    faults.add({"target": "s3", "kind": "error", "error": "NoSuchKey", "operations": ["GetObject"],
                "key": "faults/*", "times": 1})
    status, body = harness_http.post_json(harness_stack.invoke_url, payload)
    assert status == 404 and "faults/one.npy" in body["message"]
    status, body = harness_http.post_json(harness_stack.invoke_url, payload)
    assert status == 200
