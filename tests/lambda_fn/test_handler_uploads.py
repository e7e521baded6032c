"""The upload-triggered mode: an S3 notification's uploads predicted on, answers written under
OUTPUT_PREFIX, keys outside INPUT_PREFIX left alone, overlapping prefixes refused at init."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import numpy as np
import pytest

BUCKET = "features-bucket"


def s3_event(*keys: str, event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    """An S3 notification as S3 sends it: keys URL-encoded, '+' for a space."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-2",
        "eventName": event_name,
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET},
               "object": {"key": quote_plus(key), "size": 1}}} for key in keys]}


def test_uploads_are_predicted_and_written_under_the_output_prefix(s3, handler, trained) -> None:
    s3.put_object(Bucket=BUCKET, Key="features/day 1/a.npy",
                  Body=trained.features_path.read_bytes())
    result = handler.lambda_handler(s3_event("features/day 1/a.npy"), None)
    assert result == {"written": [{"source": "features/day 1/a.npy",
                                   "predictions": "predictions/day 1/a.npy.json", "status": 200}]}
    body = json.loads(s3.get_object(Bucket=BUCKET, Key="predictions/day 1/a.npy.json")["Body"]
                      .read())
    expected = np.load(trained.labels_path).tolist()
    assert body["predictions"] == expected and body["rows"] == len(expected)


def test_a_bad_upload_gets_its_error_written_not_retried(s3, handler) -> None:
    s3.put_object(Bucket=BUCKET, Key="features/bad.csv", Body=b"not,numbers\n")
    result = handler.lambda_handler(s3_event("features/bad.csv"), None)
    assert result["written"][0]["status"] == 400
    body = json.loads(s3.get_object(Bucket=BUCKET, Key="predictions/bad.csv.json")["Body"].read())
    assert body["error"]


def test_keys_outside_the_input_prefix_and_removals_are_skipped(s3, handler, trained) -> None:
    s3.put_object(Bucket=BUCKET, Key="elsewhere/a.npy", Body=trained.features_path.read_bytes())
    assert handler.lambda_handler(s3_event("elsewhere/a.npy"), None) == {"written": []}
    assert handler.lambda_handler(
        s3_event("features/a.npy", event_name="ObjectRemoved:Delete"), None) == {"written": []}
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="predictions/elsewhere")
    assert listed["KeyCount"] == 0


def test_a_missing_upload_gets_its_404_written(s3, handler) -> None:
    result = handler.lambda_handler(s3_event("features/gone.npy"), None)
    assert result["written"][0]["status"] == 404
    body = s3.get_object(Bucket=BUCKET, Key="predictions/gone.npy.json")["Body"].read()
    assert json.loads(body)["error"] == "NoSuchKey"


@pytest.mark.parametrize(("inp", "out"), [("data/", "data/out/"), ("", "predictions/"),
                                          ("features/", "")])
def test_overlapping_prefixes_fail_init_naming_both(fn, tmp_path, inp, out) -> None:
    with pytest.raises(ValueError, match="OUTPUT_PREFIX"):
        fn.function_config.FunctionConfig.from_env(
            {"INPUT_PREFIX": inp, "OUTPUT_PREFIX": out}, default_model_dir=tmp_path)
