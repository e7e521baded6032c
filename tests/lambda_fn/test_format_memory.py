"""Hostile CSV and JSON are refused before they are expanded into millions of Python objects.

A 20 MiB ``[1000,1000,...]`` or ``00,00,...`` costs 400-800 MB once parsed, more than the
function's memory; the readers count commas and brackets first, so the peak stays near the
size of the input.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

INPUT_BYTES = 4 << 20


def _peak_of(call: Callable[[], Any]) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - returned for the test to check
            return exc, tracemalloc.get_traced_memory()[1]
        return None, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _repeat(unit: bytes, head: bytes = b"", tail: bytes = b"") -> bytes:
    return head + unit * (INPUT_BYTES // len(unit)) + tail


@pytest.mark.parametrize(
    ("reader", "data", "error", "words"),
    [
        pytest.param("read_csv", _repeat(b"00,", tail=b"0\n"), "WrongFeatureCount",
                     "got 1398102 (line 1)", id="csv-wide-row"),
        pytest.param("read_csv", _repeat(b'"00",', tail=b"0\n"), "WrongFeatureCount",
                     "counting quoted commas", id="csv-wide-quoted-row"),
        pytest.param("read_csv", b"1,2,3,4\n" + _repeat(b"1.5,", tail=b"0\n"),
                     "WrongFeatureCount", "(line 2)", id="csv-wide-second-row"),
        pytest.param("read_json", _repeat(b"1000,", b"[[", b"1]]"), "TooManyValues",
                     "MAX_ROWS (100000) rows of 4 numbers", id="json-wide-row"),
        pytest.param("read_json", _repeat(b"[1],", b"[", b"[1]]"), "TooManyValues",
                     "refused before parsing", id="json-many-rows"),
        pytest.param("read_json", _repeat(b"[", tail=b"]"), "TooManyValues",
                     "refused before parsing", id="json-deep-nesting"),
    ],
)
def test_hostile_text_is_refused_with_memory_near_its_size(fn, reader, data, error, words):
    exc, peak = _peak_of(
        lambda: getattr(fn.feature_formats, reader)(data, n_features=4, max_rows=100_000)
    )
    assert isinstance(exc, getattr(fn.errors, error)), exc
    assert words in exc.message
    # Parsed, these would take 100+ MB. tracemalloc also counts other threads' allocations
    # (the session emulator's, in a full run), hence the 16 MiB of slack.
    assert peak < 2 * len(data) + (16 << 20), peak


def test_csv_header_with_quoted_commas_is_still_read(fn) -> None:
    data = b'"sepal, length","sepal, width","petal, length","petal, width"\n1,2,3,4\n'
    assert fn.feature_formats.read_csv(data, n_features=4, max_rows=10).tolist() == [
        [1, 2, 3, 4]
    ]


def test_csv_line_of_only_commas_is_skipped_as_blank(fn) -> None:
    data = b"1,2,3,4\n" + b"," * 100_000 + b"\n , ,\t,,,\r\n5,6,7,8\n"
    matrix = fn.feature_formats.read_csv(data, n_features=4, max_rows=10)
    assert matrix.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_csv_that_is_not_utf8_deep_in_the_file_is_unreadable(fn) -> None:
    data = b"1,2,3,4\n" * 10_000 + b"\xff\xfe,1,2,3\n"
    with pytest.raises(fn.errors.UnreadableFeatures, match="not UTF-8"):
        fn.feature_formats.read_csv(data, n_features=4, max_rows=100_000)


def test_json_with_max_rows_rows_is_read(fn) -> None:
    data = b"[" + b"[1.5, 2, 3, 4e-3]," * 99 + b"[1, 2, 3, 4]]"
    assert fn.feature_formats.read_json(data, n_features=4, max_rows=100).shape == (100, 4)
    with pytest.raises(fn.errors.TooManyValues):
        fn.feature_formats.read_json(data, n_features=4, max_rows=10)


def test_a_csv_of_millions_of_blank_lines_is_refused_without_reading_them(fn) -> None:
    with pytest.raises(fn.errors.TooManyRows, match="more than MAX_ROWS"):
        fn.feature_formats.read_csv(b"\n" * (20 << 20), n_features=4, max_rows=10_000)
    # a few blank lines among the rows are still fine
    data = b"1,2,3,4\n\n\n5,6,7,8\n"
    assert fn.feature_formats.read_csv(data, n_features=4, max_rows=10).shape == (2, 4)
