"""Train the example classifier and write the model and a held-out split for demos and tests.

Layout written under ``out_dir``::

    model/model.joblib          the fitted estimator (joblib.dump)
    model/model.json            metadata the handler checks at init (sklearn_version, ...)
    holdout/test_features.npy   float64, shape (n_test, n_features)
    holdout/test_labels.npy     int64, shape (n_test,)

Run ``python -m lambda_fn.train --out DIR [--seed N]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

__all__ = ["TrainResult", "main", "train"]

DATASET = "iris"
TEST_SIZE = 0.2
MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
FEATURES_FILE = "test_features.npy"
LABELS_FILE = "test_labels.npy"


@dataclass(frozen=True)
class TrainResult:
    """Where `train` wrote its output and what it learned."""

    model_dir: Path
    """Directory holding model.joblib and model.json (what the handler's MODEL_DIR points at)."""
    features_path: Path
    """Held-out features, a float64 .npy of shape (n_test, n_features)."""
    labels_path: Path
    """Held-out labels, an int64 .npy of shape (n_test,)."""
    n_test: int
    """Number of held-out rows."""
    classes: tuple[int, ...]
    """Class labels the model predicts, as JSON-native values."""
    test_accuracy: float
    """Accuracy of the model on the held-out split."""


def train(out_dir: Path, *, seed: int = 0, now: datetime | None = None) -> TrainResult:
    """Fit the classifier on iris and write model + holdout under ``out_dir``.

    The same seed gives byte-identical model and holdout files; ``now`` pins ``trained_at``.
    """
    out_dir = Path(out_dir)
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data.astype(np.float64),
        data.target.astype(np.int64),
        test_size=TEST_SIZE,
        stratify=data.target,
        random_state=seed,
    )
    estimator = LogisticRegression(max_iter=1000, random_state=seed)
    estimator.fit(x_train, y_train)

    model_dir = out_dir / "model"
    holdout_dir = out_dir / "holdout"
    model_dir.mkdir(parents=True, exist_ok=True)
    holdout_dir.mkdir(parents=True, exist_ok=True)

    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    _write_atomic(model_dir / MODEL_FILE, buffer.getvalue())
    metadata = _metadata(estimator, list(data.feature_names), now or datetime.now(UTC))
    _write_atomic(model_dir / METADATA_FILE, (json.dumps(metadata, indent=2) + "\n").encode())
    features_path = holdout_dir / FEATURES_FILE
    labels_path = holdout_dir / LABELS_FILE
    _write_atomic(features_path, _npy_bytes(x_test))
    _write_atomic(labels_path, _npy_bytes(y_test))

    return TrainResult(
        model_dir=model_dir,
        features_path=features_path,
        labels_path=labels_path,
        n_test=len(y_test),
        classes=tuple(metadata["classes"]),
        test_accuracy=float(estimator.score(x_test, y_test)),
    )


def _metadata(estimator: LogisticRegression, feature_names: list[str], now: datetime) -> dict:
    return {
        "sklearn_version": sklearn.__version__,
        "estimator": type(estimator).__name__,
        "dataset": DATASET,
        "feature_names": feature_names,
        "n_features": int(estimator.n_features_in_),
        "classes": estimator.classes_.tolist(),
        "trained_at": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    # A reader (a running handler, a packager) never sees a half-written file.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: parse arguments, train, print a one-line summary."""
    parser = argparse.ArgumentParser(
        prog="python -m lambda_fn.train",
        description="Train the example iris classifier; write DIR/model/ and DIR/holdout/.",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    try:
        result = train(args.out, seed=args.seed)
    except OSError as exc:
        print(f"error: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"trained {DATASET} classifier (seed {args.seed}): holdout accuracy "
        f"{result.test_accuracy:.3f} on {result.n_test} rows; "
        f"model in {result.model_dir}, holdout in {result.features_path.parent}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
