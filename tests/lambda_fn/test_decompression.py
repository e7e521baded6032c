"""Gzip feature objects: read as their inner format; bombs refused at the cap; corrupt ones 400."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys

import joblib
import numpy as np
import pytest

from tests.lambda_fn.conftest import FUNCTION_DIR
from tests.security.hostile import gzip_bomb

BUCKET = "features-bucket"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def _encoded(fmt: str) -> bytes:
    if fmt == "npy":
        buffer = io.BytesIO()
        np.save(buffer, np.array(ROWS), allow_pickle=False)
        return buffer.getvalue()
    if fmt == "csv":
        return b"a,b,c,d\n" + b"".join(",".join(map(str, r)).encode() + b"\n" for r in ROWS)
    return json.dumps(ROWS).encode()


# -- the pure module -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("key", "gzipped", "inner"),
    [("a/b.csv.gz", True, "a/b.csv"), ("B.NPY.GZ", True, "B.NPY"), ("x.gz", True, "x"),
     ("a.npy", False, "a.npy"), ("a.gz/b.npy", False, "a.gz/b.npy"), ("a.tgz", False, "a.tgz")],
)
def test_gzip_keys_are_recognised_by_their_last_suffix(fn, key, gzipped, inner) -> None:
    assert fn.decompression.is_gzipped(key) is gzipped
    assert fn.decompression.inner_key(key) == inner


def test_gunzip_round_trips_and_accepts_multi_member_streams(fn) -> None:
    data = gzip.compress(b"hello ") + gzip.compress(b"world")
    assert fn.decompression.gunzip(data, max_bytes=11, key="k.csv.gz") == b"hello world"


@pytest.mark.parametrize("slack", [0, -1], ids=["at-cap", "over-cap"])
def test_gunzip_cap_is_exact(fn, slack) -> None:
    data = gzip.compress(b"x" * 1000)
    if slack == 0:
        assert len(fn.decompression.gunzip(data, max_bytes=1000, key="k.gz")) == 1000
    else:
        with pytest.raises(fn.errors.DecompressedTooLarge, match="'k.gz'.*999 bytes"):
            fn.decompression.gunzip(data, max_bytes=999, key="k.gz")


def test_the_test_bomb_is_a_valid_gzip_file() -> None:
    # So that a 413 below is the cap at work, not a corrupt stream noticed early.
    assert gzip.decompress(gzip_bomb((3 << 20) + 8, b"a,b,c,d\n", b"0,0,0,0\n")) == (
        b"a,b,c,d\n" + b"0,0,0,0\n" * (3 << 17))


# Measured in a process of its own: tracemalloc counts every thread's allocations, and this one
# has the session emulator's threads allocating at the same time.
MEASURE_GUNZIP = """
import json, sys, tracemalloc
sys.path.insert(0, sys.argv[1])
import decompression, function_errors
bomb = open(sys.argv[2], "rb").read()
tracemalloc.start()
try:
    decompression.gunzip(bomb, max_bytes=4 << 20, key="bomb.npy.gz")
    refused = None
except function_errors.DecompressedTooLarge as error:
    refused = {"status": error.status, "message": error.message}
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"refused": refused, "peak": peak}))
"""


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path) -> None:
    bomb = gzip_bomb(1 << 30)  # 1 GiB of zeros
    assert len(bomb) < 2 << 20
    (tmp_path / "bomb.gz").write_bytes(bomb)
    done = subprocess.run([sys.executable, "-c", MEASURE_GUNZIP, str(FUNCTION_DIR),
                           str(tmp_path / "bomb.gz")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    refused = measured["refused"]
    assert refused is not None and refused["status"] == 413
    assert "'bomb.npy.gz'" in refused["message"] and str(4 << 20) in refused["message"]
    assert measured["peak"] < 12 << 20  # the cap plus chunk overhead, not the bomb's gigabyte


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b"", "not a readable gzip", id="empty"),
        pytest.param(b"plain text, not gzip", "Not a gzipped file", id="not-gzip"),
        pytest.param(gzip.compress(b"1,2,3,4\n" * 100)[:-12], "ended before", id="truncated"),
        pytest.param(gzip.compress(b"1,2,3,4\n")[:-8] + b"\0" * 8, "CRC", id="bad-crc"),
        pytest.param(gzip.compress(b"1,2,3,4\n") + b"trailing junk", "gzip", id="junk-after"),
        pytest.param(b"\x1f\x8b\x08\x00" + b"\xff" * 40, "gzip", id="bad-deflate"),
    ],
)
def test_corrupt_gzip_is_unreadable_features(fn, data, words) -> None:
    with pytest.raises(fn.errors.UnreadableFeatures, match=words) as caught:
        fn.decompression.gunzip(data, max_bytes=1 << 20, key="c.csv.gz")
    assert "'c.csv.gz'" in caught.value.message


@pytest.mark.parametrize(("key", "name"), [("f.npy.gz", "NPY"), ("F.CSV.GZ", "CSV"),
                                           ("f.json.Gz", "JSON")])
def test_format_of_a_gzip_key_is_its_inner_format(fn, key, name) -> None:
    assert fn.feature_formats.format_for_key(key, allow_pickle=False).name == name


@pytest.mark.parametrize("key", ["f.pkl.gz", "f.joblib.gz", "f.pickle.GZ"])
def test_gzipped_pickles_are_still_refused(fn, key) -> None:
    with pytest.raises(fn.errors.PickleNotAllowed):
        fn.feature_formats.format_for_key(key, allow_pickle=False)
    assert fn.feature_formats.format_for_key(key, allow_pickle=True).name == "PICKLE"


@pytest.mark.parametrize("key", ["f.gz", "f.txt.gz", "f.gz.gz"])
def test_other_gzip_keys_are_unsupported(fn, key) -> None:
    with pytest.raises(fn.errors.UnsupportedFormat, match="optionally followed by .gz"):
        fn.feature_formats.format_for_key(key, allow_pickle=False)


# -- through the handler ---------------------------------------------------------------------------

def _post(s3, handler, helpers, key: str, data: bytes) -> tuple[int, dict]:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return helpers.call(handler, helpers.proxy_event({"bucket": BUCKET, "key": key}))


@pytest.mark.parametrize("fmt", ["npy", "csv", "json"])
def test_gzipped_features_are_predicted(s3, handler, helpers, fmt) -> None:
    status, body = _post(s3, handler, helpers, f"f.{fmt}.gz", gzip.compress(_encoded(fmt)))
    assert status == 200, body
    assert body["predictions"] == [0, 2]


def test_gzip_bomb_through_the_handler_is_413_naming_key_and_limit(s3, load_handler, helpers):
    handler = load_handler(MAX_OBJECT_BYTES=str(1 << 20))
    status, body = _post(s3, handler, helpers, "bomb.csv.gz", gzip_bomb(64 << 20))
    assert (status, body["error"]) == (413, "DecompressedTooLarge")
    assert "'bomb.csv.gz'" in body["message"] and "MAX_OBJECT_BYTES (1048576)" in body["message"]


def test_corrupt_gzip_through_the_handler_is_400(s3, handler, helpers) -> None:
    status, body = _post(s3, handler, helpers, "bad.json.gz", b"\x1f\x8b\x08\x00garbage")
    assert (status, body["error"]) == (400, "UnreadableFeatures")
    assert "not a readable gzip file" in body["message"]


def test_gzipped_content_is_still_checked_as_its_format(s3, handler, helpers) -> None:
    status, body = _post(s3, handler, helpers, "nan.json.gz", gzip.compress(b"[[1, 2, 3, NaN]]"))
    assert (status, body["error"]) == (400, "NonFiniteValues")


def test_gzipped_pickle_is_refused_before_it_is_read(s3, handler, helpers) -> None:
    buffer = io.BytesIO()
    joblib.dump(np.array(ROWS), buffer)
    status, body = _post(s3, handler, helpers, "f.pkl.gz", gzip.compress(buffer.getvalue()))
    assert (status, body["error"]) == (415, "PickleNotAllowed")
