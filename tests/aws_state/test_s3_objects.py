"""S3 GetObject/HeadObject from moto's state (harness.aws_state.s3_objects): the same bytes on
the wire as moto's own server path, faults and IAM still applied, anything unsure left to moto.

Two emulators serve the one moto state of the process: the session's (fast reads on) and one
with ``s3_fast_reads=False``; each request boto3 sends is replayed, byte for byte, to both."""

from __future__ import annotations

import http.client
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from harness.aws_state import s3_objects
from harness.config import IamConfig
from harness.emulator import Emulator
from tests.aws_state import fast_paths
from tests.emulator.support import own_emulator

BUCKET = "s3-objects-conformance"
VERSIONED = "s3-objects-versioned"
PER_REQUEST = {"x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "date"}
Sent = tuple[str, str, dict[str, str]]


@pytest.fixture(scope="module")
def moto_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator whose every S3 request goes through moto's server app."""
    with fast_paths.moto_path(tmp_path_factory.mktemp("moto-path"),
                              s3_fast_reads=False) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def s3(harness_emulator: Emulator) -> Any:
    assert harness_emulator.config.s3_fast_reads
    return fast_paths.client("s3", harness_emulator.url)


@pytest.fixture(scope="module")
def objects(s3: Any) -> dict[str, Any]:
    """Objects of every shape the fast path serves; name -> extra get/head arguments."""
    for name in (BUCKET, VERSIONED):
        try:
            s3.create_bucket(Bucket=name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    s3.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object
    put(Bucket=BUCKET, Key="empty", Body=b"")
    put(Bucket=BUCKET, Key="binary", Body=bytes(range(256)) * 7)
    put(Bucket=BUCKET, Key="big", Body=os.urandom(1024 * 1024))
    put(Bucket=BUCKET, Key="dir/a b%c+ü?#&=.txt", Body="unicode ü".encode())
    put(Bucket=BUCKET, Key="described", Body=b"{}", ContentType="application/json",
        ContentEncoding="identity", ContentDisposition='attachment; filename="x.json"',
        CacheControl="max-age=60", ContentLanguage="en", Metadata={"Model": "v1", "x": "y z"})
    put(Bucket=BUCKET, Key="tagged", Body=b"t", Tagging="a=1&b=2&c=3")
    put(Bucket=BUCKET, Key="infrequent", Body=b"ia", StorageClass="STANDARD_IA")
    put(Bucket=BUCKET, Key="summed", Body=b"checked", ChecksumAlgorithm="SHA256")
    put(Bucket=BUCKET, Key="encrypted", Body=b"secret", ServerSideEncryption="AES256")
    first = put(Bucket=VERSIONED, Key="model", Body=b"version one")["VersionId"]
    put(Bucket=VERSIONED, Key="model", Body=b"version two, the latest")
    reads: dict[str, Any] = {key: {"Bucket": BUCKET, "Key": key} for key in (
        "empty", "binary", "big", "dir/a b%c+ü?#&=.txt", "described", "tagged", "infrequent",
        "summed", "encrypted")}
    reads["latest"] = {"Bucket": VERSIONED, "Key": "model"}
    reads["first"] = {"Bucket": VERSIONED, "Key": "model", "VersionId": first}
    return reads


def sent_by(s3: Any, call: Any) -> Sent:
    """The request boto3 sends for ``call`` (method, URL, headers)."""
    seen: list[Sent] = []

    def record(request: Any, **_: Any) -> None:
        seen.append((request.method, request.url, {
            k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    s3.meta.events.register("before-send.s3", record)
    try:
        call()
    finally:
        s3.meta.events.unregister("before-send.s3", record)
    return seen[-1]


def replay(sent: Sent, base_url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """``sent`` sent again to another emulator, as raw HTTP: status, headers, body."""
    method, url, headers = sent
    parts, target = urlsplit(base_url), urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        path = target.path + (f"?{target.query}" if target.query else "")
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def without_ids(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in PER_REQUEST]


def environ_of(sent: Sent, host: str) -> dict[str, Any]:
    """The WSGI environ harness.http_core makes of ``sent`` (the keys s3_objects reads)."""
    method, url, headers = sent
    target = urlsplit(url)
    environ = {"REQUEST_METHOD": method, "QUERY_STRING": target.query, "REMOTE_ADDR": "127.0.0.1",
               "RAW_URI": target.path + (f"?{target.query}" if target.query else ""),
               "HTTP_HOST": host}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    return environ


@pytest.mark.parametrize("operation", ["get_object", "head_object"])
def test_every_shape_is_answered_as_moto_answers_it(s3, objects, moto_path, harness_emulator,
                                                    operation):
    for name, args in objects.items():
        sent = sent_by(s3, lambda: getattr(s3, operation)(**args))  # noqa: B023 - called now
        host = urlsplit(harness_emulator.url).netloc
        assert s3_objects.answer(environ_of(sent, host)) is not None, name  # the fast path
        fast = replay(sent, harness_emulator.url)
        moto = replay(sent, moto_path.url)
        assert fast[0] == moto[0] == 200, name
        assert without_ids(fast[1]) == without_ids(moto[1]), name
        assert fast[2] == moto[2], name
        length = dict((k.lower(), v) for k, v in fast[1])["content-length"]
        if operation == "head_object":  # no body, and the length a GET gets
            assert fast[2] == b"" and int(length) == len(
                s3.get_object(**args)["Body"].read()), name
        else:
            assert int(length) == len(fast[2]) and fast[2] == s3.get_object(**args)[
                "Body"].read(), name


@pytest.mark.parametrize("extra", [
    {"Range": "bytes=2-5"}, {"IfNoneMatch": '"nothing"'}, {"IfMatch": '"nothing"'},
    {"IfModifiedSince": "Sat, 01 Jan 2000 00:00:00 GMT"}, {"ExpectedBucketOwner": "123456789012"},
    {"ResponseContentType": "text/plain"}, {"PartNumber": 1}])
def test_requests_that_change_the_answer_are_moto_s(s3, objects, moto_path, harness_emulator,
                                                    extra):
    sent = sent_by(s3, lambda: _quiet(s3.get_object, Bucket=BUCKET, Key="binary", **extra))
    assert s3_objects.answer(environ_of(sent, urlsplit(harness_emulator.url).netloc)) is None
    fast, moto = replay(sent, harness_emulator.url), replay(sent, moto_path.url)
    assert fast[0] == moto[0] and _no_ids(fast[2]) == _no_ids(moto[2])
    if "Range" in extra:
        assert fast[0] == 206 and fast[2] == (bytes(range(256)) * 7)[2:6]


def test_missing_keys_buckets_and_versions_stay_moto_s_errors(s3, objects, harness_emulator):
    host = urlsplit(harness_emulator.url).netloc
    for args, code in (({"Bucket": BUCKET, "Key": "nothing"}, "NoSuchKey"),
                       ({"Bucket": "s3-objects-none", "Key": "k"}, "NoSuchBucket"),
                       ({"Bucket": VERSIONED, "Key": "model", "VersionId": "nope"},
                        "NoSuchVersion")):
        sent = sent_by(s3, lambda: _quiet(s3.get_object, **args))  # noqa: B023 - called now
        assert s3_objects.answer(environ_of(sent, host)) is None
        with pytest.raises(ClientError) as error:
            s3.get_object(**args)
        assert error.value.response["Error"]["Code"] == code


def test_a_deleted_key_behind_a_delete_marker_is_moto_s(s3, objects):
    s3.put_object(Bucket=VERSIONED, Key="gone", Body=b"x")
    s3.delete_object(Bucket=VERSIONED, Key="gone")
    with pytest.raises(ClientError) as error:
        s3.head_object(Bucket=VERSIONED, Key="gone")
    assert error.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == \
        "true"


def test_injected_faults_still_hit_get_object(s3, objects, harness_faults):
    harness_faults.clear()
    harness_faults.add({"target": "s3", "kind": "error", "error": "NoSuchKey",
                        "operations": ["GetObject"], "bucket": BUCKET})
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket=BUCKET, Key="binary")
    assert error.value.response["Error"]["Code"] == "NoSuchKey"
    harness_faults.clear()
    harness_faults.add({"target": "s3", "kind": "latency", "latency_ms": 300,
                        "operations": ["HeadObject"], "bucket": BUCKET})
    started = time.monotonic()
    s3.head_object(Bucket=BUCKET, Key="binary")
    assert time.monotonic() - started >= 0.3  # a lower bound only: the delay happened
    assert [rule["hits"] for rule in harness_faults.report()] == [1]
    harness_faults.clear()


def test_a_bucket_policy_deny_still_refuses_an_unchecked_caller(s3):
    name = "s3-objects-denied"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{name}/*"}]}))
    with pytest.raises(ClientError) as error:  # (moto reads a HEAD as s3:HeadObject)
        s3.get_object(Bucket=name, Key="k")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_iam_decides_a_checked_callers_reads(tmp_path):
    with own_emulator(tmp_path, iam=IamConfig(mode="all")) as own:
        admin, iam = own.client("s3"), own.client("iam")
        name = "s3-objects-iam"
        admin.create_bucket(Bucket=name)
        admin.put_object(Bucket=name, Key="features.csv", Body=b"1,2,3")
        iam.create_user(UserName="s3-objects-reader")
        key = iam.create_access_key(UserName="s3-objects-reader")["AccessKey"]
        reader = fast_paths.client("s3", own.url, key["AccessKeyId"], key["SecretAccessKey"])
        _refused(reader, name)  # no policy allows it
        iam.put_user_policy(UserName="s3-objects-reader", PolicyName="read", PolicyDocument=(
            json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})))
        assert reader.get_object(Bucket=name, Key="features.csv")["Body"].read() == b"1,2,3"
        sent = sent_by(reader, lambda: reader.get_object(Bucket=name, Key="features.csv"))
        assert s3_objects.answer(environ_of(sent, urlsplit(own.url).netloc)) is not None
        assert reader.head_object(Bucket=name, Key="features.csv")["ContentLength"] == 5
        admin.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/s3-objects-reader"}}]}))
        _refused(reader, name)  # the bucket policy's Deny wins


def _refused(reader: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as error:
        reader.get_object(Bucket=bucket, Key="features.csv")
    assert error.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:GetObject" in error.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as error:
        reader.head_object(Bucket=bucket, Key="features.csv")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def _no_ids(body: bytes) -> bytes:
    """An error document without its per-request ids."""
    return re.sub(rb"<(RequestId|HostId)>[^<]*</", b"<\\1></", body)


def _quiet(call: Any, **args: Any) -> None:
    try:
        call(**args)
    except ClientError:
        pass
