"""Hypothesis strategies for the three input families of a property run.

features: matrices of many shapes and dtypes, with NaN, inf, extremes, a wrong width, no rows;
keys:     unicode keys (valid), ``../``, very long keys, control characters, bad bucket names;
bodies:   text that is not a request, JSON of the wrong types, binary, and huge bodies.
Each strategy shrinks towards the simplest input of its family.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from harness.scenario.examples import BodyExample, Example, FeaturesExample, KeyExample

NUMERIC_DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8")
# CSV carries only numbers; bool and text arrays go in formats that keep their dtype.
TYPED_FORMATS = ("npy", "json", "joblib")
_VALID_SUFFIXES = (".npy", ".csv", ".json")


def feature_examples(formats: Sequence[str], max_rows: int,
                     n_features: int) -> st.SearchStrategy[FeaturesExample]:
    return st.sampled_from(tuple(formats)).flatmap(
        lambda fmt: _features_in(fmt, max_rows, n_features))


@st.composite
def _features_in(draw: st.DrawFn, fmt: str, max_rows: int, n_features: int) -> FeaturesExample:
    import numpy as np
    from hypothesis.extra import numpy as hnp

    dtype = draw(st.sampled_from(NUMERIC_DTYPES + (("bool", "<U4") if fmt in TYPED_FORMATS
                                                   else ())))
    ndim = 2 if fmt == "csv" else draw(st.sampled_from((2, 2, 1, 3)))
    rows = draw(st.integers(0, max_rows))
    width = draw(st.one_of(st.just(n_features), st.integers(0, 2 * n_features)))
    shape = {1: (width,), 2: (rows, width), 3: (rows, 2, width)}[ndim]
    array = draw(hnp.arrays(np.dtype(dtype), shape, elements=_elements(dtype)))
    if array.dtype.kind == "f" and array.size:
        # Half of the float matrices get one special value somewhere: NaN, an infinity, or
        # an extreme finite number (random floats alone rarely hit them).
        special = draw(st.one_of(st.none(), st.sampled_from(_specials(array.dtype))))
        if special is not None:
            array = array.copy()
            array.flat[draw(st.integers(0, array.size - 1))] = special
    return FeaturesExample.from_array(fmt, array)


def _specials(dtype: Any) -> tuple[float, ...]:
    import numpy as np

    info = np.finfo(dtype)
    return (float("nan"), float("inf"), float("-inf"), float(info.max), float(info.min),
            float(info.smallest_subnormal))


def _elements(dtype: str) -> st.SearchStrategy[Any] | None:
    widths = {"float64": 64, "float32": 32, "float16": 16}
    if dtype in widths:
        return st.floats(width=widths[dtype])  # type: ignore[arg-type]
    return None  # hypothesis's defaults: the whole integer range, any bool, any text


def key_examples(bucket: str, other_bucket: str) -> st.SearchStrategy[KeyExample]:
    """``bucket`` is the one the function may read; ``other_bucket`` a valid name it may not."""
    names = _key_names()
    return st.one_of(
        names.map(lambda key: KeyExample(bucket, key, True, True, "unicode key")),
        names.map(lambda key: KeyExample(bucket, key, False, False, "missing key")),
        st.tuples(st.sampled_from(("../", "a/../", "../../", "x/./../")), names).map(
            lambda parts: KeyExample(bucket, parts[0] + parts[1], False, False, "traversal")),
        st.tuples(st.integers(1025, 4096), st.sampled_from(("a", "é", "😀"))).map(
            lambda spec: KeyExample(bucket, _long_key(*spec), False, False, "very long key")),
        st.tuples(names, st.one_of(st.integers(0, 0x1F), st.integers(0x7F, 0x9F))).map(
            lambda spec: KeyExample(bucket, chr(spec[1]) + spec[0], False, False,
                                    "control character")),
        names.map(lambda key: KeyExample(bucket, "/" + key, False, False, "leading slash")),
        names.map(lambda key: KeyExample(bucket, key.rsplit(".", 1)[0] + ".txt", False, False,
                                         "unsupported suffix")),
        _bad_buckets().map(lambda name: KeyExample(name, "x.npy", False, False,
                                                   "invalid bucket name")),
        st.just(KeyExample(other_bucket, "x.npy", False, False, "bucket not allowed")),
    )


def _key_names() -> st.SearchStrategy[str]:
    """Valid S3 keys of any Unicode text: no control characters, no '..' segment, no leading
    '/', no backslash; ending in a supported suffix."""
    text = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=24)
    return st.tuples(text, st.sampled_from(_VALID_SUFFIXES)).map(
        lambda parts: _plain_key(parts[0]) + parts[1])


def _plain_key(text: str) -> str:
    segments = ["_" if part == ".." else part for part in text.replace("\\", "_").split("/")]
    return "/".join(segments).lstrip("/") or "k"


def _long_key(size: int, char: str) -> str:
    per = len(char.encode("utf-8"))
    return char * (size // per + 1) + ".npy"


def _bad_buckets() -> st.SearchStrategy[str]:
    lower = string.ascii_lowercase + string.digits
    return st.one_of(
        st.text(lower, max_size=2),
        st.text(lower, min_size=64, max_size=80),
        st.text(string.ascii_uppercase, min_size=3, max_size=12),
        st.tuples(*[st.integers(0, 255)] * 4).map(lambda ip: ".".join(map(str, ip))),
        st.text(lower, min_size=1, max_size=8).map(lambda t: f"a{t}..b"),
        st.text(st.characters(min_codepoint=0xA0, exclude_categories=["Cs"]), min_size=1,
                max_size=8).map(lambda t: f"b{t}b"),
        st.text(lower, min_size=1, max_size=8).map(lambda t: f"xn--{t}"),
        st.text(lower, min_size=1, max_size=8).map(lambda t: f"a_{t}"),
    )


def body_examples(bucket: str) -> st.SearchStrategy[BodyExample]:
    json_scalar = st.one_of(st.none(), st.booleans(), st.integers(),
                            st.floats(allow_nan=False, allow_infinity=False), st.text())
    json_values = st.recursive(json_scalar, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=8)
    not_a_string = json_values.filter(lambda value: not isinstance(value, str))
    return st.one_of(
        st.text(max_size=200).map(lambda text: _body(text, "text")),
        st.tuples(st.sampled_from(("bucket", "key")), not_a_string).map(
            lambda spec: _body(json.dumps({"bucket": bucket, "key": "x.npy", spec[0]: spec[1]}),
                               f"wrong type for {spec[0]}")),
        json_values.filter(lambda value: not isinstance(value, dict)).map(
            lambda value: _body(json.dumps(value), "not an object")),
        st.sampled_from(({}, {"bucket": bucket}, {"key": "x.npy"})).map(
            lambda value: _body(json.dumps(value), "missing field")),
        st.binary(max_size=200).map(
            lambda raw: BodyExample(raw, "application/octet-stream", "binary")),
        st.tuples(st.integers(100_000, 3_000_000),
                  st.sampled_from(("garbage", "bucket", "key", "padding"))).map(
            lambda spec: _huge(bucket, *spec)),
    )


def _body(text: str, label: str) -> BodyExample:
    return BodyExample(text.encode("utf-8", "surrogatepass"), "application/json", label)


def _huge(bucket: str, size: int, where: str) -> BodyExample:
    filler = "a" * size
    document: Any = {
        "garbage": None,
        "bucket": {"bucket": filler, "key": "x.npy"},
        "key": {"bucket": bucket, "key": filler + ".npy"},
        "padding": {"bucket": bucket, "key": "absent.npy", "padding": filler},
    }[where]
    text = filler if document is None else json.dumps(document)
    return _body(text, f"huge ({where})")


def examples(inputs: Sequence[str], *, formats: Sequence[str], max_rows: int, n_features: int,
             bucket: str, other_bucket: str) -> st.SearchStrategy[Example]:
    """One strategy over the chosen families, in the order given (shrinking prefers the first)."""
    families: dict[str, st.SearchStrategy[Any]] = {
        "features": feature_examples(formats, max_rows, n_features),
        "keys": key_examples(bucket, other_bucket),
        "bodies": body_examples(bucket),
    }
    return st.one_of(*[families[name] for name in inputs])
