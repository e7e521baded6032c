"""Refused feature objects: unreadable, wrong shape, width or dtype, non-finite, empty, too big."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import joblib
import numpy as np
import pytest

BUCKET = "features-bucket"
GOOD_ROW = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture
def predict_object(s3, handler, helpers):
    """Upload ``data`` under ``key`` and POST it through the default handler."""

    def predict(key: str, data: bytes, handler_module: Any = handler) -> tuple[int, Any]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        event = helpers.proxy_event({"bucket": BUCKET, "key": key})
        return helpers.call(handler_module, event)

    return predict


def _by_key(*cases: tuple[Any, ...]) -> list[Any]:
    return [pytest.param(*case, id=case[0]) for case in cases]


def _refused(result: tuple[int, Any], status: int, error: str) -> str:
    got_status, body = result
    assert (got_status, body.get("error")) == (status, error), body
    return body["message"]


def _npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros((3, 4)))
    return buffer.getvalue()


def _npy_header_only(shape: tuple[int, ...]) -> bytes:
    # A valid header promising a huge array, with no data behind it.
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("key", "data", "words"),
    _by_key(
        ("garbage.npy", b"\x00\x01garbage that is not numpy", "not a readable .npy"),
        ("empty.npy", b"", "not a readable .npy"),
        ("zip.npy", _npz_bytes(), "not a readable .npy"),
        ("truncated.npy", _npy_header_only((50, 4)), "truncated .npy file"),
        ("binary.csv", b"\xff\xfe\x00garbage", "not UTF-8"),
        ("bad.json", b"{'single': quotes}", "not valid JSON"),
        ("scalar.json", b"42", "list of rows"),
        ("object.json", b'{"rows": [[1, 2, 3, 4]]}', "list of rows"),
    ),
)
def test_unreadable_object_is_400(predict_object, key, data, words) -> None:
    assert words in _refused(predict_object(key, data), 400, "UnreadableFeatures")


@pytest.mark.parametrize(
    ("key", "data", "got"),
    _by_key(
        ("three.npy", None, "got 3"),
        ("five.csv", b"1,2,3,4,5\n6,7,8,9,10\n", "got 5 (line 1)"),
        ("ragged.csv", b"1,2,3,4\n1,2,3\n", "got 3 (line 2)"),
        ("header-width.csv", b"a,b,c\n1,2,3,4\n", "got 3 (line 1)"),
        ("short-row.json", b"[1.0, 2.0, 3.0]", "got 3 (row 0)"),
        ("wide.json", json.dumps([GOOD_ROW + [1.0]]).encode(), "got 5 (row 0)"),
        ("ragged.json", b"[[1, 2, 3, 4], [1, 2, 3]]", "got 3 (row 1)"),
    ),
)
def test_wrong_feature_count_is_400(predict_object, helpers, key, data, got) -> None:
    data = data if data is not None else helpers.npy_bytes(np.ones((30, 3)))
    message = _refused(predict_object(key, data), 400, "WrongFeatureCount")
    assert message == f"expected 4 features per row, {got}"


@pytest.mark.parametrize(
    ("key", "array"),
    _by_key(
        ("strings.npy", np.array([["a", "b", "c", "d"]])),
        ("objects.npy", np.array([[1, 2, 3, {"x": 1}]], dtype=object)),
        ("complex.npy", np.ones((2, 4), dtype=np.complex128)),
        ("bool.npy", np.ones((2, 4), dtype=bool)),
        ("structured.npy", np.zeros(2, dtype=[("a", "f8"), ("b", "f8")])),
    ),
)
def test_wrong_npy_dtype_is_400(predict_object, helpers, key, array) -> None:
    assert "wrong dtype" in _refused(
        predict_object(key, helpers.npy_bytes(array)), 400, "WrongDtype"
    )


@pytest.mark.parametrize(
    ("key", "data"),
    _by_key(
        ("letters.csv", b"a,b,c,d\ne,f,g,h\n"),
        ("mixed.csv", b"1,2,3,4\n1,2,x,4\n"),
        ("strings.json", b'[["1", "2", "3", "4"]]'),
        ("booleans.json", b"[[true, false, true, false]]"),
        ("nulls.json", b"[[1, 2, null, 4]]"),
    ),
)
def test_wrong_text_dtype_is_400(predict_object, key, data) -> None:
    assert "wrong dtype" in _refused(predict_object(key, data), 400, "WrongDtype")


@pytest.mark.parametrize(
    ("key", "data", "words"),
    _by_key(
        ("nan.npy", None, "1 NaN and 0 inf"),
        ("inf.csv", b"1,2,3,inf\n1,2,3,4\n", "0 NaN and 1 inf values (first at row 0, column 3)"),
        ("nan.json", b"[[1, 2, 3, NaN], [1, -Infinity, 3, 4]]", "1 NaN and 1 inf"),
        ("huge.json", b"[[1, 2, 3, " + b"9" * 400 + b"]]", "out of float64 range"),
    ),
)
def test_non_finite_values_are_400(predict_object, helpers, key, data, words) -> None:
    if data is None:
        data = helpers.npy_bytes(np.array([GOOD_ROW, [1.0, np.nan, 2.0, 3.0]]))
    assert words in _refused(predict_object(key, data), 400, "NonFiniteValues")


@pytest.mark.parametrize(
    ("key", "data"),
    _by_key(
        ("empty.npy", None),
        ("empty.csv", b""),
        ("blank.csv", b"\n\n"),
        ("header-only.csv", b"a,b,c,d\n"),
        ("empty.json", b"[]"),
        ("empty-instances.json", b'{"instances": []}'),
    ),
)
def test_empty_matrix_is_400(predict_object, helpers, key, data) -> None:
    data = data if data is not None else helpers.npy_bytes(np.zeros((0, 4)))
    assert "no rows" in _refused(predict_object(key, data), 400, "EmptyMatrix")


@pytest.mark.parametrize(
    ("key", "data"),
    _by_key(
        ("cube.npy", None),
        ("nested.json", b"[[[1], [2], [3], [4]]]"),
        ("mixed.json", b"[[1, 2, 3, 4], 5]"),
        ("scalar-rows.json", b"[5, [1, 2, 3, 4]]"),
    ),
)
def test_wrong_shape_is_400(predict_object, helpers, key, data) -> None:
    data = data if data is not None else helpers.npy_bytes(np.ones((2, 2, 4)))
    _refused(predict_object(key, data), 400, "WrongShape")


def _rows(n: int) -> dict[str, bytes]:
    rows = [GOOD_ROW] * n
    buffer = io.BytesIO()
    np.save(buffer, np.array(rows))
    return {
        "many.npy": buffer.getvalue(),
        "many.csv": "".join(",".join(map(str, r)) + "\n" for r in rows).encode(),
        "many.json": json.dumps(rows).encode(),
    }


@pytest.mark.parametrize("key", ["many.npy", "many.csv", "many.json"])
def test_too_many_rows_is_413(s3, load_handler, helpers, key) -> None:
    handler = load_handler(MAX_ROWS="5")
    for rows, expected in ((5, 200), (6, 413)):
        s3.put_object(Bucket=BUCKET, Key=key, Body=_rows(rows)[key])
        status, body = helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": key}))
        assert status == expected, body
    assert body["error"] == "TooManyRows" and "MAX_ROWS (5)" in body["message"]


def test_npy_header_claiming_huge_shape_is_refused_before_loading(predict_object) -> None:
    status, body = predict_object("bomb.npy", _npy_header_only((10**12, 4)))
    assert (status, body["error"]) == (413, "TooManyRows")


@pytest.mark.parametrize("key", ["x.txt", "x.parquet", "noext", "x.npz", "dir.npy/x"])
def test_unknown_suffix_is_415_naming_accepted_formats(invoke, key) -> None:
    message = _refused(invoke({"bucket": BUCKET, "key": key}), 415, "UnsupportedFormat")
    assert ".npy, .csv or .json" in message


@pytest.mark.parametrize("suffix", [".joblib", ".pkl", ".pickle", ".PKL"])
def test_pickled_features_are_refused_by_default(s3, invoke, suffix) -> None:
    buffer = io.BytesIO()
    joblib.dump(np.array([GOOD_ROW]), buffer)
    s3.put_object(Bucket=BUCKET, Key=f"f{suffix}", Body=buffer.getvalue())
    message = _refused(invoke({"bucket": BUCKET, "key": f"f{suffix}"}), 415, "PickleNotAllowed")
    assert "ALLOW_PICKLE_FEATURES" in message


@pytest.mark.parametrize("flag", ["1", "true", "TRUE"])
@pytest.mark.parametrize("suffix", [".joblib", ".pkl"])
def test_pickled_features_are_accepted_when_allowed(s3, load_handler, helpers, flag, suffix):
    buffer = io.BytesIO()
    joblib.dump(np.array([GOOD_ROW, [6.7, 3.0, 5.2, 2.3]]), buffer)
    s3.put_object(Bucket=BUCKET, Key=f"f{suffix}", Body=buffer.getvalue())
    handler = load_handler(ALLOW_PICKLE_FEATURES=flag)
    status, body = helpers.call(
        handler, helpers.proxy_event({"bucket": BUCKET, "key": f"f{suffix}"})
    )
    assert status == 200 and body["predictions"] == [0, 2]


def test_pickle_flag_other_values_keep_pickles_refused(s3, load_handler, helpers) -> None:
    handler = load_handler(ALLOW_PICKLE_FEATURES="0")
    status, body = helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": "f.pkl"}))
    assert (status, body["error"]) == (415, "PickleNotAllowed")


def test_unreadable_pickle_when_allowed_is_400(s3, load_handler, helpers) -> None:
    s3.put_object(Bucket=BUCKET, Key="bad.pkl", Body=b"not a pickle")
    handler = load_handler(ALLOW_PICKLE_FEATURES="1")
    status, body = helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": "bad.pkl"}))
    assert (status, body["error"]) == (400, "UnreadableFeatures")


def test_zip_bomb_disguised_as_npy_is_never_inflated(predict_object) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", b"\x00" * 50_000_000)
    assert len(buffer.getvalue()) < 100_000
    status, body = predict_object("bomb.npy", buffer.getvalue())
    assert (status, body["error"]) == (400, "UnreadableFeatures")


def test_one_huge_csv_row_is_refused_by_width(predict_object) -> None:
    status, body = predict_object("wide.csv", b"0," * 1_000_000 + b"0\n")
    assert (status, body["error"]) == (400, "WrongFeatureCount")
    assert body["message"] == "expected 4 features per row, got 1000001 (line 1)"
