"""Reading features from S3: missing objects and buckets, size cap, denied access, 500s."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import numpy as np
import pytest
import requests

BUCKET = "features-bucket"


def test_missing_object_is_404_naming_bucket_and_key(invoke) -> None:
    status, body = invoke({"bucket": BUCKET, "key": "nope/missing.npy"})
    assert (status, body["error"]) == (404, "NoSuchKey")
    assert "'nope/missing.npy'" in body["message"] and f"'{BUCKET}'" in body["message"]


def test_missing_bucket_is_404_naming_it(load_handler, helpers) -> None:
    handler = load_handler(ALLOWED_BUCKETS=f"{BUCKET},gone-bucket")
    event = helpers.proxy_event({"bucket": "gone-bucket", "key": "x.npy"})
    status, body = helpers.call(handler, event)
    assert (status, body["error"]) == (404, "NoSuchBucket")
    assert "'gone-bucket'" in body["message"]


@pytest.mark.parametrize(("slack", "status"), [(0, 200), (-1, 413)], ids=["at-cap", "over-cap"])
def test_object_over_max_object_bytes_is_413(s3, load_handler, helpers, trained, slack, status):
    data = trained.features_path.read_bytes()
    s3.put_object(Bucket=BUCKET, Key="h.npy", Body=data)
    handler = load_handler(MAX_OBJECT_BYTES=str(len(data) + slack))
    got, body = helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": "h.npy"}))
    assert got == status
    if status == 413:
        assert body["error"] == "ObjectTooLarge"
        assert f"{len(data)} bytes" in body["message"] and "MAX_OBJECT_BYTES" in body["message"]


def test_default_max_object_bytes_is_20_mib(handler) -> None:
    assert handler.CONFIG.max_object_bytes == 20 * 1024 * 1024
    assert handler.CONFIG.max_rows == 100_000
    assert handler.CONFIG.allow_pickle_features is False


@pytest.fixture
def iam_enforced(aws_env: str) -> Iterator[None]:
    """Make moto check signatures and IAM policies, as AWS does; restore afterwards."""
    requests.post(f"{aws_env}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        yield
    finally:
        requests.post(f"{aws_env}/moto-api/reset-auth", data=b"inf", timeout=10)


def test_access_denied_is_403(
    s3, aws_client, load_handler, helpers, trained, monkeypatch, request
) -> None:
    s3.put_object(Bucket=BUCKET, Key="h.npy", Body=trained.features_path.read_bytes())
    iam = aws_client("iam")
    iam.create_user(UserName="no-s3-access")
    access_key = iam.create_access_key(UserName="no-s3-access")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access_key["SecretAccessKey"])
    handler = load_handler()
    request.getfixturevalue("iam_enforced")
    status, body = helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": "h.npy"}))
    assert (status, body["error"]) == (403, "AccessDenied")
    assert "'h.npy'" in body["message"]


def test_client_uses_the_endpoint_from_the_environment(handler, aws_env) -> None:
    assert handler.S3.meta.endpoint_url == aws_env


class _ExplodingEstimator:
    def predict(self, features: np.ndarray) -> np.ndarray:
        raise RuntimeError("secret internal detail")


def test_unexpected_error_is_500_without_details(
    s3, handler, helpers, trained, caplog: pytest.LogCaptureFixture
) -> None:
    s3.put_object(Bucket=BUCKET, Key="h.npy", Body=trained.features_path.read_bytes())
    broken = handler.model_store.LoadedModel(
        estimator=_ExplodingEstimator(), metadata=handler.MODEL.metadata
    )
    event = helpers.proxy_event({"bucket": BUCKET, "key": "h.npy"})
    with caplog.at_level(logging.ERROR):
        result = handler.handle(event, None, config=handler.CONFIG, model=broken, s3=handler.S3)
    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"message": "internal error", "error": "InternalError"}
    assert "secret" not in result["body"] and "Traceback" not in result["body"]
    [record] = [r for r in caplog.records if r.exc_info]
    assert "secret internal detail" in str(record.exc_info[1])
