"""What an upload step sends for a ``.gz`` key: the inner format's bytes, gzip-compressed."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pytest

from harness.scenario.data import build_payload, format_for

MATRIX = np.arange(8, dtype=np.float64).reshape(2, 4)


def _datasets(name: str) -> np.ndarray:
    assert name == "two"
    return MATRIX


@pytest.mark.parametrize(("key", "fmt"), [("x/a.csv.gz", "csv"), ("a.NPY.GZ", "npy"),
                                          ("a.json.gz", "json"), ("a.csv", "csv"),
                                          ("a.gz", None), ("a.txt.gz", None)])
def test_the_format_of_a_gz_key_is_the_one_before_gz(key: str, fmt: str | None) -> None:
    assert format_for(key, None) == fmt


def test_a_gz_key_gets_the_inner_format_compressed_the_same_every_time(tmp_path: Path) -> None:
    plain = build_payload({"dataset": "two"}, "a.npy", None, tmp_path, _datasets)
    packed = build_payload({"dataset": "two"}, "a.npy.gz", None, tmp_path, _datasets)
    assert packed.fmt == "npy" and packed.rows == 2
    assert gzip.decompress(packed.body) == plain.body
    assert np.load(io.BytesIO(gzip.decompress(packed.body))).tolist() == MATRIX.tolist()
    again = build_payload({"dataset": "two"}, "a.npy.gz", None, tmp_path, _datasets)
    assert again.body == packed.body  # no timestamp in the header


def test_a_gz_file_goes_up_as_it_is(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv.gz"
    source.write_bytes(gzip.compress(b"1,2,3,4\n", mtime=0))
    payload = build_payload({"file": "rows.csv.gz"}, "k.csv.gz", None, tmp_path, _datasets)
    assert payload.body == source.read_bytes()


def test_text_goes_up_as_given_even_under_a_gz_key(tmp_path: Path) -> None:
    payload = build_payload({"text": "not gzip"}, "k.csv.gz", None, tmp_path, _datasets)
    assert payload.body == b"not gzip"
