"""Load the model and its metadata once, at init, and refuse a model this runtime cannot trust."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import function_errors as errors
import joblib
import sklearn

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
_RETRAIN = "retrain with `python -m lambda_fn.train`"
_REQUIRED = ("sklearn_version", "feature_names", "classes", "n_features", "dataset", "estimator")


@dataclass(frozen=True)
class LoadedModel:
    """A fitted estimator with the metadata written next to it by ``lambda_fn.train``."""

    estimator: Any
    """The fitted scikit-learn estimator."""
    metadata: dict[str, Any]
    """The parsed model.json."""

    @property
    def n_features(self) -> int:
        return int(self.metadata["n_features"])

    def summary(self) -> dict[str, Any]:
        """The small description returned with every prediction."""
        keys = ("dataset", "estimator", "sklearn_version", "trained_at", "classes")
        return {key: self.metadata.get(key) for key in keys}


def load_model(model_dir: Path) -> LoadedModel:
    """Read model.json, check the scikit-learn version, then unpickle model.joblib."""
    metadata = read_metadata(model_dir)
    check_version(metadata["sklearn_version"], sklearn.__version__)
    model_path = model_dir / MODEL_FILE
    if not model_path.is_file():
        raise errors.ModelNotFound(f"model file {model_path} is missing; {_RETRAIN}")
    # The model comes from our own build, so unpickling it is trusted (unlike features).
    estimator = joblib.load(model_path)
    fitted_width = getattr(estimator, "n_features_in_", metadata["n_features"])
    if int(fitted_width) != int(metadata["n_features"]):
        raise errors.ModelLoadError(
            f"{model_path} expects {fitted_width} features but {METADATA_FILE} says "
            f"{metadata['n_features']}; {_RETRAIN}"
        )
    return LoadedModel(estimator=estimator, metadata=metadata)


def read_metadata(model_dir: Path) -> dict[str, Any]:
    """Parse and check model.json; raise ModelNotFound naming what is missing."""
    path = model_dir / METADATA_FILE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise errors.ModelNotFound(
            f"model metadata {path} is missing (MODEL_DIR={model_dir}); {_RETRAIN}"
        ) from None
    except (OSError, ValueError) as exc:
        raise errors.ModelNotFound(f"cannot read model metadata {path}: {exc}") from None
    if not isinstance(metadata, dict):
        raise errors.ModelNotFound(f"model metadata {path} is not a JSON object")
    missing = [key for key in _REQUIRED if key not in metadata]
    if missing:
        raise errors.ModelNotFound(f"model metadata {path} lacks {', '.join(missing)}")
    return metadata


def check_version(trained_with: str, runtime: str) -> None:
    """Refuse a model pickled by another scikit-learn: its behaviour is not guaranteed."""
    if trained_with != runtime:
        raise errors.ModelVersionMismatch(
            f"model trained with scikit-learn {trained_with}, runtime has {runtime}; {_RETRAIN}"
        )
