"""The seed loop end to end over real HTTP: upload, list, POST {bucket, key}, predictions."""

from __future__ import annotations

import io

import numpy as np
import pytest

from harness.features import encode_features
from harness.package import build_package


@pytest.fixture(scope="module")
def holdout(harness_build_dir):
    package = build_package(harness_build_dir)
    features = np.load(package.holdout_features, allow_pickle=False)
    labels = np.load(package.holdout_labels, allow_pickle=False)
    return features, labels


@pytest.mark.parametrize("fmt", ["npy", "csv", "json"])
def test_upload_list_post_predict(harness_stack, harness_client, harness_http, holdout, fmt):
    features, labels = holdout
    s3 = harness_client("s3", region_name=harness_stack.region)
    key = f"validation/test_features.{fmt}"
    s3.upload_fileobj(io.BytesIO(encode_features(features, fmt)), harness_stack.bucket, key)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=harness_stack.bucket)["Contents"]]
    assert key in keys
    status, body = harness_http.post_json(harness_stack.invoke_url,
                                          {"bucket": harness_stack.bucket, "key": key})
    assert status == 200, body
    predictions = body["predictions"]
    assert len(predictions) == len(features)
    # The packaged model (seed 0) classifies every held-out row right: 30/30, as the demo shows.
    assert predictions == labels.tolist()


def test_pickled_features_are_refused_by_default(harness_stack, harness_client, harness_http,
                                                 holdout):
    s3 = harness_client("s3", region_name=harness_stack.region)
    key = "validation/test_features.joblib"
    s3.put_object(Bucket=harness_stack.bucket, Key=key,
                  Body=encode_features(holdout[0], "joblib"))
    status, body = harness_http.post_json(harness_stack.invoke_url,
                                          {"bucket": harness_stack.bucket, "key": key})
    assert 400 <= status < 500
    assert "ALLOW_PICKLE_FEATURES" in body["message"]


def test_missing_object_is_a_clear_404(harness_stack, harness_http):
    status, body = harness_http.post_json(harness_stack.invoke_url,
                                          {"bucket": harness_stack.bucket, "key": "nope.npy"})
    assert status == 404
    assert "nope.npy" in body["message"]


def test_unknown_route_is_missing_authentication_token(harness_stack, harness_http):
    url = harness_stack.invoke_url.rsplit("/", 1)[0] + "/no-such-route"
    status, body = harness_http.post_json(url, {})
    assert status == 403
    assert body == {"message": "Missing Authentication Token"}


def test_all_three_execute_api_url_forms_reach_the_function(harness_stack, harness_http,
                                                           harness_endpoint, harness_client,
                                                           holdout):
    s3 = harness_client("s3", region_name=harness_stack.region)
    key = "forms/features.npy"
    s3.put_object(Bucket=harness_stack.bucket, Key=key, Body=encode_features(holdout[0][:3], "npy"))
    payload = {"bucket": harness_stack.bucket, "key": key}
    api, stage = harness_stack.api_id, harness_stack.stage
    port = harness_endpoint.rsplit(":", 1)[1]
    urls = [
        f"{harness_endpoint}/_aws/execute-api/{api}/{stage}/predict",
        f"{harness_endpoint}/restapis/{api}/{stage}/_user_request_/predict",
    ]
    for url in urls:
        status, body = harness_http.post_json(url, payload)
        assert status == 200 and len(body["predictions"]) == 3, (url, body)
    import json

    status, _headers, raw = harness_http.request(
        "POST", f"http://127.0.0.1:{port}/{stage}/predict", json.dumps(payload).encode(),
        {"Host": f"{api}.execute-api.localhost.localstack.cloud:{port}",
         "Content-Type": "application/json"})
    assert status == 200 and len(json.loads(raw)["predictions"]) == 3


def test_deploy_twice_is_safe(harness_endpoint, harness_stack, harness_stack_spec,
                              harness_build_dir):
    from harness.deploy import Target, deploy

    again = deploy(Target(endpoint_url=harness_endpoint), harness_stack_spec,
                   build_package(harness_build_dir))
    assert again.api_id == harness_stack.api_id
    assert again.invoke_url == harness_stack.invoke_url
