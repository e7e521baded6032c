"""Check a decoded feature array against the model before predicting; pure.

Everything scikit-learn would reject (or silently mis-handle) is refused here with a 4xx, so a
bad input never surfaces as a 500 from inside ``predict``.
"""

from __future__ import annotations

import function_errors as errors
import numpy as np

_NUMERIC_KINDS = "iuf"  # signed, unsigned, float; bool and complex are refused


def check_matrix(array: np.ndarray, *, n_features: int, max_rows: int) -> np.ndarray:
    """Return ``array`` as a finite float64 matrix of shape (rows, n_features), or raise."""
    if array.dtype.hasobject or array.dtype.kind not in _NUMERIC_KINDS:
        raise errors.WrongDtype(
            f"wrong dtype ({array.dtype}): features must be numbers (int or float)"
        )
    if array.ndim == 1 and array.size:
        array = array.reshape(1, -1)  # one row given as a flat vector
    if array.ndim == 1 or (array.ndim == 2 and array.shape[0] == 0):
        raise errors.EmptyMatrix("the feature matrix has no rows")
    if array.ndim != 2:
        raise errors.WrongShape(
            f"features must be a 2-D matrix (rows x {n_features}) or one flat row, "
            f"got shape {array.shape}"
        )
    rows, width = array.shape
    if rows > max_rows:
        raise errors.TooManyRows(f"{rows} rows is more than MAX_ROWS ({max_rows})")
    if width != n_features:
        raise errors.WrongFeatureCount(f"expected {n_features} features per row, got {width}")
    matrix = array.astype(np.float64, copy=False)
    _check_finite(matrix)
    return matrix


def _check_finite(matrix: np.ndarray) -> None:
    finite = np.isfinite(matrix)
    if finite.all():
        return
    n_nan = int(np.isnan(matrix).sum())
    n_inf = int(np.isinf(matrix).sum())
    row, column = (int(i) for i in np.argwhere(~finite)[0])
    raise errors.NonFiniteValues(
        f"features must be finite: found {n_nan} NaN and {n_inf} inf values "
        f"(first at row {row}, column {column})"
    )
