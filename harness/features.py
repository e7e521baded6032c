"""Encodes feature matrices in the formats the example function reads (pure functions)."""

from __future__ import annotations

import io
import json
from typing import Any

FORMATS = ("npy", "csv", "json", "joblib")


def encode_features(features: Any, fmt: str) -> bytes:
    """Serialise a 2-D array as ``.npy``, ``.csv``, ``.json`` or ``.joblib`` bytes."""
    import numpy as np

    array = np.asarray(features)
    if fmt == "npy":
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()
    if fmt == "csv":
        buffer = io.BytesIO()
        np.savetxt(buffer, array, delimiter=",", fmt="%.17g")
        return buffer.getvalue()
    if fmt == "json":
        return json.dumps(array.tolist()).encode()
    if fmt == "joblib":
        import joblib

        buffer = io.BytesIO()
        joblib.dump(array, buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
