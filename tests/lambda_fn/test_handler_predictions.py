"""The handler's happy paths: real proxy events, features in a real (moto) S3."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import sklearn

from lambda_fn.train import TrainResult

BUCKET = "features-bucket"


@pytest.fixture
def holdout(trained: TrainResult) -> tuple[np.ndarray, np.ndarray]:
    return np.load(trained.features_path), np.load(trained.labels_path)


def _csv(features: np.ndarray, header: list[str] | None = None) -> bytes:
    lines = [",".join(header)] if header else []
    lines += [",".join(repr(float(v)) for v in row) for row in features]
    return ("\n".join(lines) + "\n").encode()


def _assert_good_predictions(
    status: int, body: dict[str, Any], labels: np.ndarray, classes: tuple[int, ...]
) -> None:
    assert status == 200, body
    assert body["rows"] == len(labels) == len(body["predictions"])
    assert set(body["predictions"]) <= set(classes)
    # The seed-0 model classifies every held-out row right: any other answer is a regression.
    assert body["predictions"] == labels.tolist()


def test_npy_features_are_predicted(s3, invoke, trained, holdout) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/holdout.npy", Body=trained.features_path.read_bytes())
    status, body = invoke({"bucket": BUCKET, "key": "in/holdout.npy"})
    _assert_good_predictions(status, body, holdout[1], trained.classes)
    assert body["model"] == {
        "dataset": "iris",
        "estimator": "LogisticRegression",
        "sklearn_version": sklearn.__version__,
        "trained_at": body["model"]["trained_at"],
        "classes": [0, 1, 2],
    }


@pytest.mark.parametrize(
    "header",
    [None, ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]],
    ids=["no-header", "feature-name-header"],
)
def test_csv_features_are_predicted(s3, invoke, trained, holdout, header) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/holdout.csv", Body=_csv(holdout[0], header))
    status, body = invoke({"bucket": BUCKET, "key": "in/holdout.csv"})
    _assert_good_predictions(status, body, holdout[1], trained.classes)


@pytest.mark.parametrize("wrap", [False, True], ids=["list-of-rows", "instances"])
def test_json_features_are_predicted(s3, invoke, trained, holdout, wrap) -> None:
    rows = holdout[0].tolist()
    document = {"instances": rows} if wrap else rows
    s3.put_object(Bucket=BUCKET, Key="in/holdout.json", Body=json.dumps(document).encode())
    status, body = invoke({"bucket": BUCKET, "key": "in/holdout.json"})
    _assert_good_predictions(status, body, holdout[1], trained.classes)


def test_one_flat_row_is_one_prediction(s3, invoke, holdout) -> None:
    s3.put_object(Bucket=BUCKET, Key="one.json", Body=json.dumps(holdout[0][0].tolist()).encode())
    status, body = invoke({"bucket": BUCKET, "key": "one.json"})
    assert status == 200 and body["rows"] == 1
    assert body["predictions"] == [int(holdout[1][0])]


def test_integer_npy_features_are_accepted(s3, invoke, helpers) -> None:
    s3.put_object(Bucket=BUCKET, Key="ints.npy", Body=helpers.npy_bytes(np.array([[5, 3, 1, 0]])))
    status, body = invoke({"bucket": BUCKET, "key": "ints.npy"})
    assert status == 200 and body["predictions"] == [0]


def test_uppercase_suffix_is_recognised(s3, invoke, trained) -> None:
    s3.put_object(Bucket=BUCKET, Key="IN/HOLDOUT.NPY", Body=trained.features_path.read_bytes())
    status, _ = invoke({"bucket": BUCKET, "key": "IN/HOLDOUT.NPY"})
    assert status == 200


def test_base64_encoded_body_is_decoded(s3, invoke, trained) -> None:
    s3.put_object(Bucket=BUCKET, Key="h.npy", Body=trained.features_path.read_bytes())
    status, body = invoke({"bucket": BUCKET, "key": "h.npy"}, base64_body=True)
    assert status == 200 and body["rows"] == trained.n_test


def test_direct_invoke_event_gets_a_proxy_result(s3, handler, helpers, trained) -> None:
    s3.put_object(Bucket=BUCKET, Key="h.npy", Body=trained.features_path.read_bytes())
    status, body = helpers.call(handler, {"bucket": BUCKET, "key": "h.npy"})
    assert status == 200 and body["rows"] == trained.n_test


def test_unicode_keys_are_read(s3, invoke, trained) -> None:
    key = "données/été 2026/holdout.npy"
    s3.put_object(Bucket=BUCKET, Key=key, Body=trained.features_path.read_bytes())
    status, _ = invoke({"bucket": BUCKET, "key": key})
    assert status == 200


def test_every_request_logs_one_json_line(
    s3, handler: ModuleType, helpers, trained, capsys: pytest.CaptureFixture
) -> None:
    s3.put_object(Bucket=BUCKET, Key="h.npy", Body=trained.features_path.read_bytes())
    capsys.readouterr()
    helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": "h.npy"}))
    helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": "missing.npy"}))
    ok, missing = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert ok["bucket"] == BUCKET and ok["key"] == "h.npy" and ok["rows"] == trained.n_test
    assert ok["status"] == 200 and ok["ms"] >= 0 and ok["requestId"]
    assert missing["status"] == 404 and missing["error"] == "NoSuchKey" and "rows" not in missing
