"""Builds the bytes an ``upload`` step sends: from a dataset, a generator, inline rows, a file."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.features import FORMATS, encode_features
from harness.scenario.model import StepError

_SUFFIX_FORMATS = {".npy": "npy", ".csv": "csv", ".json": "json", ".joblib": "joblib",
                   ".pkl": "joblib", ".pickle": "joblib"}

Datasets = Callable[[str], Any]
"""Returns a named dataset's feature matrix (``iris_holdout``, ``iris``)."""


@dataclass(frozen=True)
class Payload:
    body: bytes
    fmt: str | None
    """The format the bytes are in; None for raw text."""
    rows: int | None
    """Rows of the matrix; None when the bytes are not a matrix."""


GZIP_SUFFIX = ".gz"
_GZIP_MAGIC = b"\x1f\x8b"


def is_gzipped(key: str) -> bool:
    return key.lower().endswith(GZIP_SUFFIX)


def format_for(key: str, given: str | None) -> str | None:
    """The explicit format, else the one the key's suffix names (the one before ``.gz``), else
    None."""
    if given is not None:
        return given
    inner = key[: -len(GZIP_SUFFIX)] if is_gzipped(key) else key
    return _SUFFIX_FORMATS.get(PurePosixPath(inner).suffix.lower())


def gzipped(body: bytes) -> bytes:
    """``body`` gzip-compressed, byte for byte the same every time (no timestamp, no name)."""
    import gzip

    if body.startswith(_GZIP_MAGIC):
        return body  # already compressed (a .gz file uploaded as it is)
    return gzip.compress(body, mtime=0)


def build_payload(data: Mapping[str, Any], key: str, fmt: str | None, base_dir: Path,
                  datasets: Datasets) -> Payload:
    """The upload's bytes, gzip-compressed for a key ending in ``.gz``; StepError when the data
    cannot be built."""
    payload = _payload(data, key, fmt, base_dir, datasets)
    if is_gzipped(key) and "text" not in data:
        return Payload(gzipped(payload.body), payload.fmt, payload.rows)
    return payload


def _payload(data: Mapping[str, Any], key: str, fmt: str | None, base_dir: Path,
             datasets: Datasets) -> Payload:
    if "text" in data:
        return Payload(str(data["text"]).encode("utf-8"), None, None)
    target = format_for(key, fmt)
    if "file" in data:
        return _from_file(base_dir / str(data["file"]), target, data)
    matrix = _matrix(data, datasets)
    if target is None:
        raise StepError(f"cannot tell the format of {key!r} from its suffix; "
                        f"add format: ({', '.join(FORMATS)})")
    return Payload(encode_features(matrix, target), target, _rows(matrix))


def _matrix(data: Mapping[str, Any], datasets: Datasets) -> Any:
    import numpy as np

    if "dataset" in data:
        matrix = np.asarray(datasets(str(data["dataset"])))
    elif "generator" in data:
        matrix = generate(data["generator"])
    else:
        try:
            matrix = np.asarray(data["rows"], dtype=np.float64 if "dtype" not in data else None)
        except (ValueError, TypeError) as exc:
            raise StepError(f"rows are not a numeric matrix: {exc}") from None
    return _shape(matrix, data)


def _shape(matrix: Any, data: Mapping[str, Any]) -> Any:
    if "limit" in data:
        matrix = matrix[: int(data["limit"])]
    if "dtype" in data:
        matrix = matrix.astype(str(data["dtype"]))
    return matrix


def generate(spec: Mapping[str, Any]) -> Any:
    """A matrix from a generator spec: ``uniform`` in [low, high) or ``constant`` value."""
    import numpy as np

    shape = (int(spec["rows"]), int(spec.get("columns", 4)))
    if spec.get("kind", "uniform") == "constant":
        return np.full(shape, float(spec.get("value", 0.0)))
    rng = np.random.default_rng(spec.get("seed", 0))
    return rng.uniform(float(spec.get("low", 0.0)), float(spec.get("high", 8.0)), shape)


def _from_file(path: Path, target: str | None, data: Mapping[str, Any]) -> Payload:
    source = _SUFFIX_FORMATS.get(path.suffix.lower())
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StepError(f"cannot read {path}: {exc.strerror or exc}") from None
    if source is None:
        return Payload(raw, None, None)  # bytes of no known format go up as they are
    matrix = _shape(decode(raw, source), data)
    if source == (target or source) and "limit" not in data and "dtype" not in data:
        return Payload(raw, source, _rows(matrix))
    return Payload(encode_features(matrix, target or source), target or source, _rows(matrix))


def decode(raw: bytes, fmt: str) -> Any:
    """A feature matrix from bytes in one of the formats (for files the scenario ships)."""
    import numpy as np

    try:
        if fmt == "npy":
            return np.load(io.BytesIO(raw), allow_pickle=False)
        if fmt == "csv":
            return np.loadtxt(io.BytesIO(raw), delimiter=",", ndmin=2)
        if fmt == "json":
            document = json.loads(raw)
            if isinstance(document, dict):
                document = document.get("instances")
            return np.asarray(document, dtype=np.float64)
        import joblib

        return np.asarray(joblib.load(io.BytesIO(raw)))  # the scenario's own, trusted file
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the scenario's mistake
        raise StepError(f"cannot read the {fmt} file: {type(exc).__name__}: {exc}") from None


def _rows(matrix: Any) -> int:
    if matrix.ndim == 0:
        return 1
    return 1 if matrix.ndim == 1 and matrix.size else int(matrix.shape[0])
