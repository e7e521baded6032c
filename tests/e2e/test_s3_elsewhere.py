"""The stack with its S3 served by another endpoint (LocalStack's, in docker-compose.yml).

A second emulator, in a process of its own, stands in for LocalStack: its S3 state is not the
embedded emulator's, so a prediction proves the function read the features from over there.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from harness.deploy import StackSpec, Target, deploy
from harness.features import encode_features
from harness.package import build_package


@pytest.fixture(scope="module")
def other_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = dict(os.environ, HARNESS_STATE_DIR=str(tmp_path_factory.mktemp("other-s3")))
    process = subprocess.Popen([sys.executable, "-m", "harness.cli.main", "up", "--port", "0"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        match = re.search(r"ready on (http://\S+)", line)
        if match:
            url = match.group(1)
            break
    try:
        assert url, "the second emulator did not start"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_function_reads_features_from_the_other_s3(harness_endpoint, harness_client, harness_http,
                                                   harness_build_dir, other_s3):
    import boto3

    package = build_package(harness_build_dir)
    target = Target(endpoint_url=harness_endpoint, s3_endpoint_url=other_s3)
    spec = StackSpec(function_name="predict-s3-elsewhere", api_name="predict-s3-elsewhere-api",
                     bucket="features-elsewhere")
    stack = deploy(target, spec, package)
    assert stack.s3_endpoint_url == other_s3
    s3 = boto3.client("s3", region_name=stack.region, endpoint_url=other_s3,
                      aws_access_key_id="t", aws_secret_access_key="t")
    features = np.load(package.holdout_features, allow_pickle=False)
    s3.upload_fileobj(io.BytesIO(encode_features(features, "npy")), stack.bucket, "f.npy")
    buckets = [b["Name"] for b in harness_client("s3").list_buckets()["Buckets"]]
    assert stack.bucket not in buckets, "the bucket lives on the other endpoint only"
    payload = {"bucket": stack.bucket, "key": "f.npy"}
    status, body = harness_http.post_json(stack.invoke_url, payload)
    assert status == 200, body
    assert len(body["predictions"]) == len(features)
