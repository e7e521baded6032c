"""``${...}`` references and dotted paths (pure)."""

from __future__ import annotations

import pytest

from harness.scenario.variables import (
    VariableError,
    get_path,
    is_single_reference,
    parse_path,
    references,
    resolve,
)

SCOPE = {"stack": {"bucket": "b1", "invoke_url": "http://x/dev/predict"},
         "steps": {"up": {"rows": 30, "key": "v/f.npy", "body": {"predictions": [0, 2]}}},
         "vars": {"n": 3}}


def test_a_whole_value_reference_keeps_its_type():
    assert resolve("${steps.up.rows}", SCOPE) == 30
    assert resolve("${steps.up.body.predictions}", SCOPE) == [0, 2]


def test_references_inside_text_are_interpolated():
    assert resolve("s3://${stack.bucket}/${steps.up.key}", SCOPE) == "s3://b1/v/f.npy"
    assert resolve("n=${vars.n} p=${steps.up.body.predictions}", SCOPE) == "n=3 p=[0, 2]"


def test_resolution_is_deep_and_leaves_other_values_alone():
    value = {"a": ["${vars.n}", 1.5, None], "b": {"c": "${stack.bucket}"}}
    assert resolve(value, SCOPE) == {"a": [3, 1.5, None], "b": {"c": "b1"}}


def test_double_dollar_writes_a_literal_reference():
    assert resolve("cost $${not.a.ref}", SCOPE) == "cost ${not.a.ref}"
    assert not is_single_reference("$${x}")
    assert list(references("$${x} ${y}")) == ["y"]


def test_indexes_in_paths():
    assert parse_path("$.predictions[1]") == ["predictions", 1]
    assert parse_path("a.b.0.c") == ["a", "b", 0, "c"]
    assert resolve("${steps.up.body.predictions[-1]}", SCOPE) == 2


@pytest.mark.parametrize(("text", "message"), [
    ("${nothing.here}", "unknown name 'nothing'"),
    ("${steps.up.nope}", "steps.up has no key 'nope' (its keys: rows, key, body)"),
    ("${steps.up.body.predictions[5]}", "has 2 items; no index 5"),
    ("${steps.up.rows.x}", "steps.up.rows is int; it has no 'x'"),
])
def test_unresolvable_references_say_why(text, message):
    with pytest.raises(VariableError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        resolve(text, SCOPE)


def test_get_path_on_a_missing_key_names_the_keys_there():
    with pytest.raises(VariableError, match=r"the body has no key 'error' \(its keys: message\)"):
        get_path({"message": "x"}, ["error"], "the body")
