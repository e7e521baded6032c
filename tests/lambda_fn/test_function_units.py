"""The function's pure modules, without sockets: event parsing, formats, checks, results, config.

Property tests feed arbitrary input and require that every failure is a RequestError (a 4xx),
never another exception that would surface as a 500.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FORMATS = ["NPY", "CSV", "JSON"]
finite_matrices = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 20), st.just(4)),
    elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
quick = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _encode(matrix: np.ndarray, fmt: str) -> bytes:
    if fmt == "NPY":
        buffer = io.BytesIO()
        np.save(buffer, matrix)
        return buffer.getvalue()
    if fmt == "CSV":
        return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in matrix).encode()
    return json.dumps(matrix.tolist()).encode()


def _decode_and_check(fn, data: bytes, fmt: str) -> np.ndarray:
    raw = fn.feature_formats.read_features(
        data, fn.feature_formats.FeatureFormat[fmt], n_features=4, max_rows=50
    )
    return fn.feature_checks.check_matrix(raw, n_features=4, max_rows=50)


@pytest.mark.parametrize("fmt", FORMATS)
@quick
@given(matrix=finite_matrices)
def test_finite_matrices_round_trip_through_every_format(fn, fmt, matrix) -> None:
    np.testing.assert_array_equal(_decode_and_check(fn, _encode(matrix, fmt), fmt), matrix)


@pytest.mark.parametrize("fmt", FORMATS)
@quick
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_fail_only_with_request_errors(fn, fmt, data) -> None:
    try:
        matrix = _decode_and_check(fn, data, fmt)
    except fn.errors.RequestError as error:
        assert 400 <= error.status < 500
    else:
        assert matrix.dtype == np.float64 and matrix.shape[1] == 4
        assert np.isfinite(matrix).all()


@quick
@given(data=st.binary(max_size=200))
def test_arbitrary_npy_bodies_behind_a_valid_header_fail_cleanly(fn, data) -> None:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (3, 4)}
    )
    with contextlib.suppress(fn.errors.RequestError):
        _decode_and_check(fn, buffer.getvalue() + data, "NPY")


@quick
@given(document=json_values)
def test_arbitrary_json_features_fail_only_with_request_errors(fn, document) -> None:
    with contextlib.suppress(fn.errors.RequestError):
        _decode_and_check(fn, json.dumps(document).encode(), "JSON")


@quick
@given(event=json_values)
def test_arbitrary_direct_events_fail_only_with_request_errors(fn, event) -> None:
    try:
        request = fn.event_parsing.parse_request(event, {"features-bucket"})
    except fn.errors.RequestError as error:
        assert error.status in (400, 403)
    else:
        assert request.bucket == "features-bucket"


@quick
@given(key=st.text(max_size=60))
def test_accepted_keys_are_relative_plain_paths(fn, key) -> None:
    try:
        fn.event_parsing.validate_key(key)
    except fn.errors.InvalidKey:
        return
    assert key and not key.startswith("/") and "\\" not in key
    assert ".." not in key.split("/")
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 for c in key)


@quick
@given(bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", fullmatch=True))
def test_ordinary_bucket_names_are_valid(fn, bucket) -> None:
    if bucket.startswith("xn--") or bucket.endswith("-s3alias") or bucket.startswith("sthree-"):
        return
    fn.event_parsing.validate_bucket_name(bucket)


def test_dotted_bucket_names_are_valid(fn) -> None:
    fn.event_parsing.validate_bucket_name("my.features.bucket")


def test_proxy_event_without_body_is_empty_body(fn) -> None:
    with pytest.raises(fn.errors.EmptyBody):
        fn.event_parsing.request_payload({"httpMethod": "POST", "requestContext": {}})


def test_format_for_key_uses_the_last_suffix_case_insensitively(fn) -> None:
    formats = fn.feature_formats
    assert formats.format_for_key("a.csv.npy", allow_pickle=False) is formats.FeatureFormat.NPY
    assert formats.format_for_key("A.JSON", allow_pickle=False) is formats.FeatureFormat.JSON
    assert formats.format_for_key("a.pkl", allow_pickle=True) is formats.FeatureFormat.PICKLE
    with pytest.raises(fn.errors.UnsupportedFormat):
        formats.format_for_key("a.npy.zip", allow_pickle=True)


def test_csv_header_is_skipped_only_on_the_first_row(fn) -> None:
    data = b"sepal length,sepal width,petal length,petal width\n1,2,3,4\n"
    matrix = fn.feature_formats.read_csv(data, n_features=4, max_rows=10)
    assert matrix.tolist() == [[1.0, 2.0, 3.0, 4.0]]
    with pytest.raises(fn.errors.WrongDtype, match="line 2"):
        fn.feature_formats.read_csv(b"1,2,3,4\na,b,c,d\n", n_features=4, max_rows=10)


def test_csv_with_bom_crlf_and_blank_lines_is_read(fn) -> None:
    data = b"\xef\xbb\xbfa,b,c,d\r\n\r\n1,2,3,4\r\n 5 , 6 ,7,8\r\n"
    assert fn.feature_formats.read_csv(data, n_features=4, max_rows=10).tolist() == [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
    ]


def test_fortran_order_npy_is_read(fn) -> None:
    matrix = np.asfortranarray(np.arange(8, dtype=np.float32).reshape(2, 4))
    np.testing.assert_array_equal(_decode_and_check(fn, _encode(matrix, "NPY"), "NPY"), matrix)


def test_error_result_shape(fn) -> None:
    result = fn.proxy_results.error_result(fn.errors.InvalidKey("key must not be empty"))
    assert result == {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": "key must not be empty", "error": "InvalidKey"}),
        "isBase64Encoded": False,
    }


def test_every_request_error_has_a_4xx_status_and_its_own_code(fn) -> None:
    errors = fn.errors
    classes = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type)
        and issubclass(obj, errors.RequestError)
        and obj is not errors.RequestError
    ]
    assert classes and all(cls.__name__ in errors.__doc__ for cls in classes)  # tree is drawn
    assert all(400 <= cls.status < 500 for cls in classes)
    assert len({cls.code for cls in classes}) == len(classes)
    assert all(cls.code == cls.__name__ for cls in classes)


def test_config_from_env_defaults(fn, tmp_path: Path) -> None:
    config = fn.function_config.FunctionConfig.from_env({}, default_model_dir=tmp_path)
    assert config == fn.function_config.FunctionConfig(
        model_dir=tmp_path,
        allowed_buckets=frozenset(),
        max_object_bytes=20 * 1024 * 1024,
        max_rows=100_000,
        allow_pickle_features=False,
    )


def test_config_from_env_reads_every_setting(fn, tmp_path: Path) -> None:
    environ = {
        "MODEL_DIR": "/opt/model",
        "ALLOWED_BUCKETS": " a-bucket ,b-bucket,,",
        "MAX_OBJECT_BYTES": "1024",
        "MAX_ROWS": "10",
        "ALLOW_PICKLE_FEATURES": "true",
    }
    config = fn.function_config.FunctionConfig.from_env(environ, default_model_dir=tmp_path)
    assert config.model_dir == Path("/opt/model")
    assert config.allowed_buckets == {"a-bucket", "b-bucket"}
    assert (config.max_object_bytes, config.max_rows) == (1024, 10)
    assert config.allow_pickle_features is True
