"""Decode a feature object's bytes into an array, by format; pure, no I/O.

Formats, chosen by the key's suffix (case-insensitive):

- ``.npy``: read with pickles disabled; the header (dtype, shape, data length) is checked
  before the array body is touched, so a small file cannot claim a huge array.
- ``.csv``: UTF-8 numbers, one row per line, blank lines ignored. The first row is a header,
  and is skipped, when any of its cells is not a number; header names are not matched against
  the model's feature names (columns are positional), only its width is checked. A non-number
  in any later row is a wrong dtype. A line with more commas than a row is refused unsplit.
- ``.json``: a list of rows, ``{"instances": [rows...]}``, or one flat row of numbers; a
  document with more ``[`` or ``,`` than MAX_ROWS rows need is refused before parsing.
- ``.joblib``/``.pkl``/``.pickle``: only with ALLOW_PICKLE_FEATURES, because unpickling runs
  whatever code the file names. Refused before the object is even read otherwise.
- any of these plus ``.gz`` (``.npy.gz``, ``.csv.gz``, ``.json.gz``; ``.pkl.gz`` only with
  ALLOW_PICKLE_FEATURES): gunzipped by `decompression` under a cap, then read as the inner format.

Readers refuse what they can see cheaply (row count, row width) before building objects, so
memory stays near the object's size; they return an array that `feature_checks` still has to
accept (dtype, shape, finiteness).
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

import decompression
import function_errors as errors
import numpy as np


class FeatureFormat(enum.Enum):
    NPY = ".npy"
    CSV = ".csv"
    JSON = ".json"
    PICKLE = "pickle"


_SUFFIXES = {".npy": FeatureFormat.NPY, ".csv": FeatureFormat.CSV, ".json": FeatureFormat.JSON}
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
QUOTED_COMMA_SLACK = 256
"""Commas a CSV line with quotes may hold beyond a row's width (a header's quoted names)."""
CSV_LINE_SLACK = 1024
"""Lines a CSV may hold beyond MAX_ROWS (a header, blank lines)."""
JSON_SLACK = 64
"""Arrays and commas a JSON document may hold beyond MAX_ROWS rows (its outer list, a key)."""
_BLANK_CSV_CHARS = ", \t\r\n"


def format_for_key(key: str, *, allow_pickle: bool) -> FeatureFormat:
    """The format named by ``key``'s suffix (the one before ``.gz`` for a gzip object), or
    UnsupportedFormat / PickleNotAllowed."""
    suffix = PurePosixPath(decompression.inner_key(key)).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix in PICKLE_SUFFIXES:
        if allow_pickle:
            return FeatureFormat.PICKLE
        raise errors.PickleNotAllowed(
            f"pickled features ({suffix}) are refused because unpickling runs code; "
            "use .npy, .csv or .json (optionally .gz), or set ALLOW_PICKLE_FEATURES=1 for "
            "trusted buckets"
        )
    shown = (suffix or "no suffix") + (" gzipped" if decompression.is_gzipped(key) else "")
    raise errors.UnsupportedFormat(
        f"unsupported feature format ({shown}): the key must end in .npy, .csv or .json, "
        "optionally followed by .gz"
    )


def read_features(data: bytes, fmt: FeatureFormat, *, n_features: int, max_rows: int) -> np.ndarray:
    """Decode ``data`` as ``fmt``; raise UnreadableFeatures, WrongDtype, TooManyRows, ...

    Rows of the wrong width are refused while reading, before a hostile file (one row of
    millions of values) is converted to floats.
    """
    if fmt is FeatureFormat.NPY:
        return read_npy(data, n_features=n_features, max_rows=max_rows)
    if fmt is FeatureFormat.CSV:
        return read_csv(data, n_features=n_features, max_rows=max_rows)
    if fmt is FeatureFormat.JSON:
        return read_json(data, n_features=n_features, max_rows=max_rows)
    return read_pickle(data)


def read_npy(data: bytes, *, n_features: int, max_rows: int) -> np.ndarray:
    """Read a .npy file; dtype, shape and length are checked from the header first."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, EOFError, SyntaxError) as exc:
        raise errors.UnreadableFeatures(f"not a readable .npy file: {exc}") from None
    if dtype.hasobject or dtype.itemsize == 0:
        raise errors.WrongDtype(f"wrong dtype ({dtype}): .npy features must be a numeric array")
    if len(shape) == 2:
        if shape[0] > max_rows:
            raise errors.TooManyRows(f"{shape[0]} rows is more than MAX_ROWS ({max_rows})")
        if shape[1] != n_features:
            raise _wrong_width(n_features, shape[1])
    needed = math.prod(shape) * dtype.itemsize
    available = len(data) - stream.tell()
    if available < needed:
        raise errors.UnreadableFeatures(
            f"truncated .npy file: shape {shape} needs {needed} bytes, found {available}"
        )
    stream.seek(0)
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError as exc:
        raise errors.UnreadableFeatures(f"not a readable .npy file: {exc}") from None


def read_csv(data: bytes, *, n_features: int, max_rows: int) -> np.ndarray:
    """Read numeric CSV; a first row with any non-number cell is a header and is skipped.

    Lines are decoded one at a time and a line too wide for a row is refused before csv splits
    it, so a hostile file costs about one line of memory, not millions of cell objects.
    """
    if data.count(b"\n") > max_rows + CSV_LINE_SLACK:  # blank lines cost time, not rows
        raise errors.TooManyRows(f"more than MAX_ROWS ({max_rows}) rows: the CSV has more than "
                                 f"{max_rows + CSV_LINE_SLACK} lines")
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(_narrow_lines(lines, n_features))
    rows: list[list[float]] = []
    header_allowed = True
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != n_features:
                raise _wrong_width(n_features, len(cells), f"line {reader.line_num}")
            values = _csv_numbers(cells, reader.line_num, header_allowed)
            header_allowed = False
            if values is not None:
                rows.append(values)
            if len(rows) > max_rows:
                raise errors.TooManyRows(f"more than MAX_ROWS ({max_rows}) rows")
    except csv.Error as exc:
        raise errors.UnreadableFeatures(f"not readable as CSV: {exc}") from None
    except UnicodeDecodeError:
        raise errors.UnreadableFeatures("CSV features are not UTF-8 text") from None
    return np.array(rows, dtype=np.float64).reshape(len(rows), n_features)


def read_json(data: bytes, *, n_features: int, max_rows: int) -> np.ndarray:
    """Read a list of rows, ``{"instances": rows}``, or a single flat row of numbers."""
    _check_json_size(data, n_features=n_features, max_rows=max_rows)
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise errors.UnreadableFeatures(f"not valid JSON: {_short(str(exc))}") from None
    if isinstance(document, dict) and "instances" in document:
        document = document["instances"]
    if not isinstance(document, list):
        raise errors.UnreadableFeatures(
            'JSON features must be a list of rows or {"instances": [rows...]}'
        )
    if document and not any(isinstance(item, list) for item in document):
        document = [document]  # one flat row
    if len(document) > max_rows:
        raise errors.TooManyRows(f"{len(document)} rows is more than MAX_ROWS ({max_rows})")
    rows = [_json_row(item, index, n_features) for index, item in enumerate(document)]
    return np.array(rows, dtype=np.float64).reshape(len(rows), n_features)


def read_pickle(data: bytes) -> np.ndarray:
    """Unpickle with joblib (runs code: only reached when ALLOW_PICKLE_FEATURES is set)."""
    import joblib

    try:
        loaded = joblib.load(io.BytesIO(data))
    except Exception as exc:  # any failure of an untrusted pickle is the caller's problem
        raise errors.UnreadableFeatures(
            f"could not unpickle features: {type(exc).__name__}"
        ) from None
    try:
        return np.asarray(loaded)
    except (ValueError, TypeError):
        raise errors.WrongDtype(
            f"wrong dtype: unpickled {type(loaded).__name__} is not a numeric array"
        ) from None


def _narrow_lines(lines: Iterable[str], n_features: int) -> Iterator[str]:
    """``lines``, refusing one with more commas than a row holds (WrongFeatureCount); a line
    of nothing but commas, which csv would skip as blank, is passed on as an empty line."""
    for number, line in enumerate(lines, 1):
        commas = line.count(",")
        if commas < n_features:
            yield line
        elif not line.strip(_BLANK_CSV_CHARS):
            yield "\n"
        elif '"' not in line:
            raise _wrong_width(n_features, commas + 1, f"line {number}")
        elif commas > n_features + QUOTED_COMMA_SLACK:
            raise _wrong_width(n_features, commas + 1, f"line {number}, counting quoted commas")
        else:
            yield line  # a header whose quoted cells hold commas


def _check_json_size(data: bytes, *, n_features: int, max_rows: int) -> None:
    """TooManyValues when ``data`` has more arrays or commas than MAX_ROWS rows can hold.

    json.loads builds ~30 bytes of objects per byte of ``[1,1,...]``; counting first keeps
    a 20 MiB document from costing hundreds of MB. Counts include brackets and commas inside
    strings, which no valid feature document needs.
    """
    arrays, commas = data.count(b"["), data.count(b",")
    if arrays > max_rows + JSON_SLACK or commas > max_rows * n_features + JSON_SLACK:
        raise errors.TooManyValues(
            f"JSON features hold more than MAX_ROWS ({max_rows}) rows of {n_features} numbers "
            f"({arrays} '[' and {commas} ','); refused before parsing"
        )


def _csv_numbers(cells: list[str], line: int, header_allowed: bool) -> list[float] | None:
    """The row's numbers; None for a header row (only allowed first); WrongDtype otherwise."""
    values = []
    for cell in cells:
        try:
            values.append(float(cell))
        except ValueError:
            if header_allowed:
                return None
            raise errors.WrongDtype(
                f"wrong dtype: line {line} has a value that is not a number ({_short(repr(cell))})"
            ) from None
    return values


def _json_row(item: Any, index: int, n_features: int) -> list[float]:
    if not isinstance(item, list):
        raise errors.WrongShape(f"row {index} is not an array of numbers")
    if len(item) != n_features:
        raise _wrong_width(n_features, len(item), f"row {index}")
    row = []
    for column, cell in enumerate(item):
        if isinstance(cell, list):
            raise errors.WrongShape(
                f"features must be 2-D: row {index} column {column} is an array"
            )
        if isinstance(cell, bool) or not isinstance(cell, int | float):
            raise errors.WrongDtype(
                f"wrong dtype: row {index} column {column} is {_short(repr(cell))}, not a number"
            )
        try:
            row.append(float(cell))
        except OverflowError:
            raise errors.NonFiniteValues(
                f"row {index} column {column} is out of float64 range"
            ) from None
    return row


def _wrong_width(expected: int, got: int, where: str = "") -> errors.WrongFeatureCount:
    suffix = f" ({where})" if where else ""
    return errors.WrongFeatureCount(f"expected {expected} features per row, got {got}{suffix}")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
