"""The seed loop with LocalStack as its S3: localstack-core 4.9.2 on the host, no Docker.

Runs where ``HARNESS_LOCALSTACK_PYTHON`` names an interpreter with localstack-core installed (the
tox environment ``localstack`` makes one); skips elsewhere.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import numpy as np
import pytest

from harness.deploy import Stack, StackSpec, Target, deploy
from harness.features import encode_features
from harness.localstack import LocalStackServer
from harness.package import Package, build_package

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def localstack() -> Iterator[str]:
    python = os.environ.get("HARNESS_LOCALSTACK_PYTHON")
    if not python:
        pytest.skip("LocalStack target not tested: set HARNESS_LOCALSTACK_PYTHON to an "
                    "interpreter with localstack-core 4.9.2 (`tox -e localstack` does)")
    with LocalStackServer(python) as server:
        yield server.url


@pytest.fixture(scope="module")
def package(harness_build_dir) -> Package:
    return build_package(harness_build_dir)


@pytest.fixture(scope="module")
def stack(harness_endpoint: str, localstack: str, package: Package) -> Stack:
    target = Target(endpoint_url=harness_endpoint, s3_endpoint_url=localstack)
    return deploy(target, StackSpec(function_name="predict-localstack",
                                    api_name="predict-localstack-api",
                                    bucket="lh-lambda-buckets-2022"), package)


@pytest.mark.parametrize("fmt", ["npy", "joblib"])
def test_seed_loop_with_localstack_s3(stack: Stack, localstack: str, package: Package,
                                      harness_http, harness_client, fmt: str):
    import boto3

    s3 = boto3.client("s3", region_name=stack.region, endpoint_url=localstack,
                      aws_access_key_id="test", aws_secret_access_key="test")
    features = np.load(package.holdout_features, allow_pickle=False)
    labels = np.load(package.holdout_labels, allow_pickle=False)
    key = f"validation/test_features.{fmt}"
    s3.upload_fileobj(io.BytesIO(encode_features(features, fmt)), stack.bucket, key)
    assert key in [o["Key"] for o in s3.list_objects_v2(Bucket=stack.bucket)["Contents"]]
    status, body = harness_http.post_json(stack.invoke_url, {"bucket": stack.bucket, "key": key})
    if fmt == "joblib":  # the seed's pickles stay refused without the function's opt-in
        assert 400 <= status < 500 and "ALLOW_PICKLE_FEATURES" in body["message"]
        return
    assert status == 200, body
    assert float(np.mean(np.asarray(body["predictions"]) == labels)) >= 0.8
    embedded = [b["Name"] for b in harness_client("s3").list_buckets()["Buckets"]]
    assert stack.bucket not in embedded, "the features came from LocalStack's S3"
