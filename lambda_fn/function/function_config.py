"""The function's settings, read once from the environment at init.

| variable              | default                     | meaning                                   |
| --------------------- | --------------------------- | ----------------------------------------- |
| MODEL_DIR             | <dir of handler.py>/model   | holds model.joblib and model.json          |
| ALLOWED_BUCKETS       | unset: every bucket refused | comma-separated bucket names              |
| MAX_OBJECT_BYTES      | 20971520 (20 MiB)           | larger feature objects get 413; also caps |
|                       |                             | a gzip object's decompressed size         |
| MAX_ROWS              | 100000                      | more rows get 413                         |
| ALLOW_PICKLE_FEATURES | off                         | `1`/`true` accepts .joblib/.pkl/.pickle   |
| INPUT_PREFIX          | features/                   | S3-triggered: keys read (others skipped)  |
| OUTPUT_PREFIX         | predictions/                | S3-triggered: where predictions are put   |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from s3_trigger import check_prefixes

DEFAULT_MAX_OBJECT_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class FunctionConfig:
    """Settings for one execution environment."""

    model_dir: Path
    """Directory with model.joblib and model.json."""
    allowed_buckets: frozenset[str]
    """Buckets features may be read from; empty means ALLOWED_BUCKETS is not configured."""
    max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    """Largest feature object read from S3, in bytes; also what a gzip object may inflate to."""
    max_rows: int = DEFAULT_MAX_ROWS
    """Most rows one request may predict."""
    allow_pickle_features: bool = False
    """Whether pickled features (.joblib/.pkl/.pickle) are loaded; pickles run code on load."""
    input_prefix: str = "features/"
    """S3-triggered mode: only uploads under this prefix are predicted on."""
    output_prefix: str = "predictions/"
    """S3-triggered mode: predictions are written under this prefix (never the input's)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, default_model_dir: Path) -> FunctionConfig:
        """Read the settings from ``environ``; a malformed number raises ValueError naming it."""
        buckets = environ.get("ALLOWED_BUCKETS", "")
        input_prefix = environ.get("INPUT_PREFIX", "features/")
        output_prefix = environ.get("OUTPUT_PREFIX", "predictions/")
        check_prefixes(input_prefix, output_prefix)
        return cls(
            model_dir=Path(environ.get("MODEL_DIR") or default_model_dir),
            allowed_buckets=frozenset(b.strip() for b in buckets.split(",") if b.strip()),
            max_object_bytes=_positive_int(environ, "MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES),
            max_rows=_positive_int(environ, "MAX_ROWS", DEFAULT_MAX_ROWS),
            allow_pickle_features=environ.get("ALLOW_PICKLE_FEATURES", "").strip().lower() in _TRUE,
            input_prefix=input_prefix,
            output_prefix=output_prefix,
        )


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value
