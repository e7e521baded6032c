"""Hostile payloads for the example function: pure builders, and hypothesis strategies over them.

Every `Hostile` is a request body, the objects to upload before it is POSTed, and the statuses
the function (or the gateway in front of it) may answer with: always 4xx. `hostile_requests`
draws from eight families; `representatives` names one fixed payload per family, so a run
covers every family whatever hypothesis happens to draw.
"""

from __future__ import annotations

import base64
import functools
import gzip
import io
import json
import pickle
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

N_FEATURES = 4
GOOD_ROW = [5.1, 3.5, 1.4, 0.2]
PICKLE_KINDS = ("joblib", "pickle", "npy")
E400 = frozenset({400})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Hostile:
    """One hostile request: ``uploads`` (bucket, key, bytes) go to S3 before ``body`` is POSTed."""

    family: str
    kind: str
    body: bytes
    statuses: frozenset[int]
    uploads: tuple[tuple[str, str, bytes], ...] = ()
    content_type: str = "application/json"

    def __repr__(self) -> str:  # hypothesis prints failing examples: keep megabytes out
        sizes = [(bucket, key, len(data)) for bucket, key, data in self.uploads]
        return f"Hostile({self.kind!r}, body={self.body[:120]!r}, uploads={sizes})"


# -- bytes ---------------------------------------------------------------------------------------

class Exploit:
    """Unpickling this calls ``Path(marker).touch()``: arbitrary code, as any pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path(self.marker).touch, ())


def exploit_bytes(marker: Path, kind: str) -> bytes:
    """Bytes whose loading (joblib.load, pickle.loads, np.load(allow_pickle=True)) runs code."""
    if kind == "pickle":
        return pickle.dumps(Exploit(marker))
    buffer = io.BytesIO()
    if kind == "joblib":
        import joblib

        joblib.dump(Exploit(marker), buffer)
    else:  # an object array: .npy stores it as a pickle after a valid header
        np.save(buffer, np.array([Exploit(marker)] * N_FEATURES, dtype=object).reshape(1, -1),
                allow_pickle=True)
    return buffer.getvalue()


@functools.lru_cache(maxsize=16)
def gzip_bomb(inflated_bytes: int, head: bytes = b"", unit: bytes = b"\0") -> bytes:
    """A valid gzip file of ``head`` then ``unit`` repeated to about ``inflated_bytes``.

    Built without holding (or compressing) the inflated bytes: a full flush resets the deflate
    state, so every 1 MiB chunk after one compresses to the same piece, which is repeated; only
    the CRC in the trailer has to see every byte.
    """
    chunk = unit * (_CHUNK // len(unit))
    count = max(1, (inflated_bytes - len(head)) // len(chunk))
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(head) + compressor.compress(chunk)
    first += compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()[:-8]  # the final block; the trailer is rebuilt for `count` chunks
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    size = len(head) + count * len(chunk)
    return first + piece * (count - 1) + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def npy_header_only(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A valid .npy header promising ``shape``, with 64 bytes of data behind it."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 64


def npy_bytes(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def features_object(suffix: str, rows: list[list[Any]]) -> bytes:
    """``rows`` in the format ``suffix`` names (``.gz`` gzipped); strings go in as written."""
    fmt = suffix.lower().removesuffix(".gz")
    if fmt == ".npy":
        data = npy_bytes(np.array(rows, dtype=np.float64))
    elif fmt == ".csv":
        data = b"".join(",".join(map(str, row)).encode() + b"\n" for row in rows)
    else:
        data = ("[" + ",".join("[" + ",".join(map(str, row)) + "]" for row in rows) + "]").encode()
    return gzip_bytes(data) if suffix.lower().endswith(".gz") else data


def request(bucket: Any, key: Any) -> bytes:
    # ensure_ascii: NULs and lone surrogates travel as \u escapes, as a JSON client sends them
    return json.dumps({"bucket": bucket, "key": key}).encode()


def uploaded(family: str, kind: str, bucket: str, key: str, data: bytes,
             statuses: frozenset[int]) -> Hostile:
    """A POST for s3://bucket/key after uploading ``data`` there."""
    return Hostile(family, kind, request(bucket, key), statuses, ((bucket, key, data),))


# -- one payload per family, built directly ------------------------------------------------------

_BOMB_SHAPES = {
    ".npy.gz": (npy_header_only((1 << 27, N_FEATURES))[:-64], b"\0"),
    ".csv.gz": (b"a,b,c,d\n", b"0,0,0,0\n"),
    ".json.gz": (b"[", b"[0,0,0,0],"),
}


def bomb(bucket: str, suffix: str, inflated: int) -> Hostile:
    head, unit = _BOMB_SHAPES[suffix]
    return uploaded("bombs", "gzip bomb", bucket, f"hostile/bomb-{inflated >> 20}MiB{suffix}",
                    gzip_bomb(inflated, head, unit), frozenset({413}))


def pickled(bucket: str, marker: Path, exploit: str, suffix: str) -> Hostile:
    data = exploit_bytes(marker, exploit)
    data = gzip_bytes(data) if suffix.lower().endswith(".gz") else data
    fmt = suffix.lower().removesuffix(".gz")
    statuses = frozenset({415}) if fmt in (".pkl", ".pickle", ".joblib") else E400
    return uploaded("pickles", f"{exploit} as {suffix}", bucket, f"hostile/{exploit}{suffix}",
                    data, statuses)


def huge_shape(bucket: str, shape: tuple[int, ...], descr: str, gz: bool) -> Hostile:
    data = npy_header_only(shape, descr)
    return uploaded("huge shapes", f"{len(shape)}-D .npy header", bucket,
                    f"hostile/shape.npy{'.gz' if gz else ''}",
                    gzip_bytes(data) if gz else data, frozenset({400, 413}))


def wide_csv(bucket: str, cell: bytes, columns: int) -> Hostile:
    return uploaded("wide and deep", "CSV with millions of columns", bucket, "hostile/wide.csv",
                    b",".join([cell] * columns) + b"\n", E400)


def wide_json(bucket: str, cell: bytes, columns: int, flat: bool) -> Hostile:
    row = b"[" + b",".join([cell] * columns) + b"]"
    return uploaded("wide and deep", "JSON with millions of columns", bucket, "hostile/wide.json",
                    row if flat else b"[" + row + b"]", frozenset({400, 413}))


def deep_json(bucket: str, opener: bytes, depth: int) -> Hostile:
    return uploaded("wide and deep", "deep JSON", bucket, "hostile/deep.json", opener * depth,
                    frozenset({400, 413}))


def many_rows(bucket: str, rows: int) -> Hostile:
    return uploaded("wide and deep", "JSON with too many rows", bucket, "hostile/rows.json",
                    b"[" + b"[1,2,3,4]," * rows + b"[1,2,3,4]]", frozenset({413}))


_JSON_SPELLING = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def non_finite(bucket: str, suffix: str, value: str, rows: int, at: int) -> Hostile:
    matrix: list[list[Any]] = [list(GOOD_ROW) for _ in range(rows)]
    json_value = _JSON_SPELLING.get(value, value)
    matrix[at % rows][at % N_FEATURES] = json_value if ".json" in suffix else value
    return uploaded("NaN and inf", f"{value} in {suffix}", bucket, f"hostile/non-finite{suffix}",
                    features_object(suffix, matrix), E400)


def key_case(bucket: str, kind: str, key: str, statuses: frozenset[int] = E400) -> Hostile:
    return Hostile("keys", kind, request(bucket, key), statuses)


def not_allowed(other_bucket: str, suffix: str) -> Hostile:
    # The object exists: only the allowlist stands between the caller and it.
    return uploaded("buckets", "bucket not allowed", other_bucket, f"features{suffix}",
                    features_object(suffix, [GOOD_ROW]), frozenset({403}))


def invalid_bucket(name: str) -> Hostile:
    return Hostile("buckets", "invalid bucket", request(name, "features.npy"),
                   frozenset({400, 403}))


def bad_body(kind: str, data: bytes, content_type: str = "application/json") -> Hostile:
    return Hostile("bodies", kind, data, E400, content_type=content_type)


def representatives(bucket: str, other_bucket: str, marker: Path) -> list[Hostile]:
    """One payload per family, the worst of each, to run whatever hypothesis draws."""
    return [
        key_case(bucket, "traversal", "../../etc/passwd.npy"),
        not_allowed(other_bucket, ".csv.gz"),
        pickled(bucket, marker, "joblib", ".pkl"),
        pickled(bucket, marker, "npy", ".npy.gz"),
        bomb(bucket, ".csv.gz", 1 << 30),
        huge_shape(bucket, (1 << 40, N_FEATURES), "<f8", False),
        wide_csv(bucket, b'"00"', 2_000_000),
        non_finite(bucket, ".json.gz", "1e999", 3, 5),
        bad_body("binary garbage", b"\xff\xfe\x00garbage", "application/octet-stream"),
    ]


# -- strategies ----------------------------------------------------------------------------------

def hostile_requests(bucket: str, other_bucket: str, marker: Path) -> st.SearchStrategy[Hostile]:
    """Every family of hostile payload. ``bucket`` is allowed; ``other_bucket`` is a real bucket
    that is not; pickles touch ``marker`` when anything unpickles them."""
    return st.one_of(
        _keys(bucket),
        _buckets(other_bucket),
        _pickles(bucket, marker),
        _bombs(bucket),
        _huge_shapes(bucket),
        _wide_and_deep(bucket),
        _non_finite(bucket),
        _bodies(bucket),
    )


_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
_suffixes = st.sampled_from((".npy", ".csv", ".json", ".npy.gz", ".csv.gz", ".json.gz"))


def _keys(bucket: str) -> st.SearchStrategy[Hostile]:
    def case(kind: str, keys: st.SearchStrategy[str],
             statuses: frozenset[int] = E400) -> st.SearchStrategy[Hostile]:
        return keys.map(lambda key: key_case(bucket, kind, key, statuses))

    return st.one_of(
        case("traversal", st.builds(
            "{}{}{}".format, st.sampled_from(("../", "a/../", "../../etc/", "x/./../", "./../")),
            _names, _suffixes)),
        case("absolute path", st.sampled_from(
            ("/etc/passwd", "/etc/passwd.npy", "/proc/self/environ.json", "//x.csv"))),
        # Percent-encoding is not decoded: S3 keys are opaque, so this is a plain missing key.
        case("encoded traversal", st.sampled_from(
            ("..%2f..%2fetc%2fpasswd.npy", "%2e%2e/%2e%2e/etc/passwd.csv", "..%5cx.json")),
            frozenset({400, 404})),
        case("backslash", st.sampled_from(("..\\..\\x.npy", "a\\b.csv"))),
        case("control character", st.builds(
            "{}{}{}".format, _names, st.sampled_from(("\x00", "\n", "\x1b", "\x7f", "\x85")),
            _suffixes)),
        case("lone surrogate", st.sampled_from(("\ud800.npy", "a/\udfff.csv"))),
        case("very long key", st.builds(
            lambda n, c: c * n + ".npy", st.integers(1025, 5000), st.sampled_from("aé😀/"))),
        case("empty key", st.just("")),
    )


def _buckets(other_bucket: str) -> st.SearchStrategy[Hostile]:
    names = st.one_of(
        st.sampled_from(("", "ab", "UPPER", "192.168.0.1", "a..b", "xn--abc", "a_b", "x" * 64,
                         "../etc", "b/../c", "s3://b", "arn:aws:s3:::b", "b\x00", "-b-")),
        st.text(max_size=80),
    )
    return st.one_of(names.map(invalid_bucket),
                     _suffixes.map(lambda suffix: not_allowed(other_bucket, suffix)))


def _pickles(bucket: str, marker: Path) -> st.SearchStrategy[Hostile]:
    suffixes = (".pkl", ".pickle", ".joblib", ".PKL", ".pkl.gz", ".joblib.gz", ".npy", ".npy.gz",
                ".csv", ".json", ".csv.gz")
    return st.builds(pickled, st.just(bucket), st.just(marker), st.sampled_from(PICKLE_KINDS),
                     st.sampled_from(suffixes))


def _bombs(bucket: str) -> st.SearchStrategy[Hostile]:
    return st.builds(bomb, st.just(bucket), st.sampled_from(tuple(_BOMB_SHAPES)),
                     st.sampled_from((256 << 20, 1 << 30)))


def _huge_shapes(bucket: str) -> st.SearchStrategy[Hostile]:
    shapes = st.one_of(
        st.tuples(st.integers(100_001, 1 << 40), st.just(N_FEATURES)),
        st.tuples(st.integers(1, 10), st.integers(N_FEATURES + 1, 1 << 40)),
        st.tuples(st.integers(1 << 20, 1 << 62)),
        st.tuples(st.integers(1 << 10, 1 << 20), st.integers(1 << 10, 1 << 20),
                  st.integers(1, 1 << 20)),
    )
    return st.builds(huge_shape, st.just(bucket), shapes,
                     st.sampled_from(("<f8", "<f4", "|u1", "<c16")), st.booleans())


def _wide_and_deep(bucket: str) -> st.SearchStrategy[Hostile]:
    cells = st.sampled_from((b"0", b"00", b"1.5", b"1e308"))
    return st.one_of(
        st.builds(wide_csv, st.just(bucket), cells | st.just(b'"0"'),
                  st.integers(1_000_000, 2_000_000)),
        st.builds(wide_json, st.just(bucket), cells, st.integers(1_000_000, 2_000_000),
                  st.booleans()),
        st.builds(deep_json, st.just(bucket), st.sampled_from((b"[", b'{"instances":')),
                  st.integers(1_000, 1_000_000)),
        st.builds(many_rows, st.just(bucket), st.integers(100_001, 400_000)),
    )


def _non_finite(bucket: str) -> st.SearchStrategy[Hostile]:
    return st.builds(non_finite, st.just(bucket), _suffixes,
                     st.sampled_from(("nan", "inf", "-inf", "1e999", "-1e999")),
                     st.integers(1, 50), st.integers(0, 1000))


def _bodies(bucket: str) -> st.SearchStrategy[Hostile]:
    not_a_string = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                             st.lists(st.integers(), max_size=3),
                             st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
    wrong_type = st.builds(
        lambda field, value: bad_body("wrong field type", json.dumps(
            {"bucket": bucket, "key": "f.npy", field: value}).encode()),
        st.sampled_from(("bucket", "key")), not_a_string)
    return st.one_of(
        st.text(max_size=200).map(lambda t: bad_body("text", t.encode("utf-8", "surrogatepass"))),
        st.sampled_from((b"", b"   ", b"null")).map(lambda raw: bad_body("empty body", raw)),
        st.sampled_from((b"[]", b"[1, 2]", b'["bucket", "key"]', b"42", b'"x"', b"true")).map(
            lambda raw: bad_body("JSON that is not an object", raw)),
        wrong_type,
        st.sampled_from(({}, {"bucket": bucket}, {"key": "f.npy"})).map(
            lambda doc: bad_body("missing field", json.dumps(doc).encode())),
        st.binary(min_size=1, max_size=300).map(
            lambda raw: bad_body("binary garbage", raw, "application/octet-stream")),
        st.binary(min_size=1, max_size=300).map(
            lambda raw: bad_body("base64 garbage", base64.b64encode(raw))),
        st.integers(1_000, 200_000).map(
            lambda depth: bad_body("deeply nested body", b"[" * depth + b"]" * depth)),
    )
