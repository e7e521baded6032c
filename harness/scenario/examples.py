"""The inputs a property run sends, as values that know whether they are valid and that round-trip
through JSON, so a failing one can be replayed exactly with ``harness run --only-example``.

Validity is decided by construction and by the function's documented contract (a numeric
matrix of rows x n_features, finite, at least one row; a plain key; an allowed bucket), never
by calling the function's own code.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

FEATURE_KEY_PREFIX = "property/example"


@dataclass(frozen=True)
class FeaturesExample:
    """A feature matrix uploaded in one format, then POSTed as ``{bucket, key}``."""

    fmt: str
    dtype: str
    shape: tuple[int, ...]
    values: tuple[Any, ...]
    """The array's values, flattened in C order (floats may be nan or inf)."""

    kind = "features"

    @classmethod
    def from_array(cls, fmt: str, array: Any) -> FeaturesExample:
        return cls(fmt, str(array.dtype), tuple(int(n) for n in array.shape),
                   tuple(array.ravel().tolist()))

    def array(self) -> Any:
        import numpy as np

        with np.errstate(all="ignore"):
            return np.array(self.values, dtype=self.dtype).reshape(self.shape)

    @property
    def key(self) -> str:
        return f"{FEATURE_KEY_PREFIX}.{self.fmt}"

    @property
    def rows(self) -> int:
        return 1 if len(self.shape) == 1 else self.shape[0]

    def is_valid(self, n_features: int) -> bool:
        """True when the function must answer 200 with one prediction per row."""
        if self.dtype == "bool" or self.dtype.startswith(("<U", ">U", "|U", "U")):
            return False
        if len(self.shape) == 1:
            fits = self.shape[0] == n_features
        elif len(self.shape) == 2:
            fits = self.shape[0] >= 1 and self.shape[1] == n_features
        else:
            fits = False
        return fits and all(math.isfinite(float(v)) for v in self.values)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "format": self.fmt, "dtype": self.dtype,
                "shape": list(self.shape), "values": list(self.values)}

    def describe(self) -> str:
        shown = repr(self.array().tolist())
        if len(shown) > 300:
            shown = shown[:297] + "..."
        return f"{self.fmt} features, dtype {self.dtype}, shape {self.shape}: {shown}"


@dataclass(frozen=True)
class KeyExample:
    """A ``{bucket, key}`` request; ``upload`` puts valid features there first."""

    bucket: str
    key: str
    upload: bool
    valid: bool
    """True when the request must get 200 (only ever with ``upload``)."""
    label: str
    """Which family the example came from (unicode key, traversal, bad bucket, ...)."""

    kind = "key"

    def is_valid(self, n_features: int) -> bool:
        return self.valid

    @property
    def rows(self) -> int:
        return 1

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "bucket": self.bucket, "key": self.key, "upload": self.upload,
                "valid": self.valid, "label": self.label}

    def describe(self) -> str:
        action = "upload features there, then POST" if self.upload else "POST"
        return (f"{self.label}: {action} bucket={_short(self.bucket)} key={_short(self.key)} "
                f"({len(self.key.encode('utf-8', 'surrogatepass'))} bytes)")


@dataclass(frozen=True)
class BodyExample:
    """A raw request body: not JSON, the wrong types, binary, or huge. Never valid."""

    body: bytes
    content_type: str
    label: str

    kind = "body"

    def is_valid(self, n_features: int) -> bool:
        return False

    @property
    def rows(self) -> int:
        return 0

    def to_json(self) -> dict[str, Any]:
        try:
            text: dict[str, str] = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            text = {"base64": base64.b64encode(self.body).decode("ascii")}
        return {"kind": self.kind, **text, "content_type": self.content_type,
                "label": self.label}

    def describe(self) -> str:
        shown = _short(self.body.decode("utf-8", "backslashreplace"), 200)
        return f"{self.label} body ({len(self.body)} bytes, {self.content_type}): {shown}"


Example = FeaturesExample | KeyExample | BodyExample


def example_to_text(example: Example) -> str:
    """The example as one line of JSON (what ``--only-example`` takes)."""
    return json.dumps(example.to_json(), ensure_ascii=True, separators=(",", ":"))


def example_from_json(document: Any) -> Example:
    """Rebuild an example from `example_to_text`'s JSON; ValueError when it is not one."""
    if not isinstance(document, dict):
        raise ValueError("an example is a JSON object with a kind")
    kind = document.get("kind")
    try:
        if kind == "features":
            return FeaturesExample(str(document["format"]), str(document["dtype"]),
                                   tuple(int(n) for n in document["shape"]),
                                   tuple(document["values"]))
        if kind == "key":
            return KeyExample(str(document["bucket"]), str(document["key"]),
                              bool(document["upload"]), bool(document["valid"]),
                              str(document.get("label", "key")))
        if kind == "body":
            raw = (base64.b64decode(document["base64"]) if "base64" in document
                   else str(document["text"]).encode("utf-8", "surrogatepass"))
            return BodyExample(raw, str(document.get("content_type", "application/json")),
                               str(document.get("label", "body")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a {kind} example: {exc}") from None
    raise ValueError(f"unknown example kind {kind!r}; expected features, key or body")


def _short(text: str, limit: int = 60) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "...'"
