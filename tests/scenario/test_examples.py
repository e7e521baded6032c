"""Property-run inputs: the strategies, the validity oracle, the JSON round trip (no server)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, find, given, settings

from harness.features import encode_features
from harness.scenario import strategies
from harness.scenario.examples import (
    BodyExample,
    FeaturesExample,
    KeyExample,
    example_from_json,
    example_to_text,
)

ALL = strategies.examples(("features", "keys", "bodies"), formats=("npy", "csv", "json",
                                                                   "joblib"),
                          max_rows=6, n_features=4, bucket="data-bucket",
                          other_bucket="not-allowed")
QUICK = settings(max_examples=150, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck))


@QUICK
@given(ALL)
def test_every_example_survives_the_json_round_trip(example):
    text = example_to_text(example)
    again = example_from_json(__import__("json").loads(text))
    assert example_to_text(again) == text
    assert type(again) is type(example)


@QUICK
@given(strategies.feature_examples(("npy", "csv", "json", "joblib"), 6, 4))
def test_every_feature_example_can_be_encoded(example):
    encoded = encode_features(example.array(), example.fmt)
    assert isinstance(encoded, bytes)


KEYS = strategies.key_examples("data-bucket", "not-allowed")


# The filter keeps the valid ones; were there none, hypothesis would fail with Unsatisfiable.
@QUICK
@given(KEYS.filter(lambda example: example.valid))
def test_only_uploaded_keys_can_be_valid(example):
    assert example.upload
    assert example.bucket == "data-bucket"
    assert ".." not in example.key.split("/") and not example.key.startswith("/")
    assert len(example.key.encode("utf-8")) <= 1024


def test_the_key_strategy_makes_invalid_keys_too():
    found = find(KEYS, lambda example: not example.valid and not example.upload,
                 settings=settings(database=None))
    assert not found.valid


@pytest.mark.parametrize(("shape", "values", "dtype", "valid"), [
    ((2, 4), [0.0] * 8, "float64", True),
    ((4,), [1, 2, 3, 4], "int32", True),
    ((0, 4), [], "float64", False),
    ((1, 3), [1.0, 2.0, 3.0], "float64", False),
    ((1, 4), [1.0, math.nan, 3.0, 4.0], "float64", False),
    ((1, 4), [1.0, math.inf, 3.0, 4.0], "float32", False),
    ((1, 4), [1e308, -1e308, 5e-324, 0.0], "float64", True),
    ((1, 4), [True, False, True, False], "bool", False),
    ((1, 1, 4), [1.0, 2.0, 3.0, 4.0], "float64", False),
    ((1, 4), ["a", "b", "c", "d"], "<U1", False),
])
def test_the_validity_oracle_follows_the_functions_contract(shape, values, dtype, valid):
    assert FeaturesExample("npy", dtype, shape, tuple(values)).is_valid(4) is valid


def test_descriptions_show_the_input():
    example = FeaturesExample("npy", "float64", (1, 4), (math.nan, 0.0, 0.0, 0.0))
    assert example.describe() == "npy features, dtype float64, shape (1, 4): [[nan, 0.0, 0.0, 0.0]]"
    key = KeyExample("b", "../x.npy", False, False, "traversal")
    assert key.describe() == "traversal: POST bucket='b' key='../x.npy' (8 bytes)"
    body = BodyExample(b"\xff\x00", "application/octet-stream", "binary")
    assert example_from_json(body.to_json()) == body


@pytest.mark.parametrize("document", [[], {"kind": "nope"}, {"kind": "features"}])
def test_a_malformed_example_is_a_value_error(document):
    with pytest.raises(ValueError):
        example_from_json(document)
