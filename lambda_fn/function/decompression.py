"""Gunzip a feature object (``.npy.gz``, ``.csv.gz``, ``.json.gz``) with a hard output cap; pure.

The output is produced in chunks and refused as soon as it passes ``max_bytes``, so a gzip bomb
(a small object that inflates to gigabytes) costs at most ``max_bytes`` of memory, never its
full size. The function passes MAX_OBJECT_BYTES: an object holds no more data gzipped than plain.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import PurePosixPath

import function_errors as errors

GZIP_SUFFIX = ".gz"
_CHUNK_BYTES = 64 * 1024


def is_gzipped(key: str) -> bool:
    """Whether ``key`` names a gzip object (its last suffix is ``.gz``, any case)."""
    return PurePosixPath(key).suffix.lower() == GZIP_SUFFIX


def inner_key(key: str) -> str:
    """``key`` without its ``.gz`` suffix (``a/b.csv.gz`` -> ``a/b.csv``); others unchanged."""
    return key[: -len(GZIP_SUFFIX)] if is_gzipped(key) else key


def gunzip(data: bytes, *, max_bytes: int, key: str) -> bytes:
    """The decompressed bytes of ``data``; DecompressedTooLarge past ``max_bytes`` of output,
    UnreadableFeatures when ``data`` is not a complete, valid gzip stream."""
    if not data:  # GzipFile reads b"" as an empty stream; it is not a gzip file
        raise errors.UnreadableFeatures(f"object {key!r} is empty: not a readable gzip file")
    chunks: list[bytes] = []
    size = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as stream:
            # read(n) inflates at most n bytes, so a bomb never gets further than the cap.
            while chunk := stream.read(min(_CHUNK_BYTES, max_bytes + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise errors.DecompressedTooLarge(
                        f"object {key!r} decompresses to more than {max_bytes} bytes; "
                        f"MAX_OBJECT_BYTES ({max_bytes}) also caps decompressed data"
                    )
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise errors.UnreadableFeatures(
            f"object {key!r} is not a readable gzip file: {_short(str(exc))}"
        ) from None
    return b"".join(chunks)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
