"""Builds the example function's deployment package: its code plus a model trained here."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from harness.errors import DeployError

FUNCTION_SRC = Path(__file__).resolve().parent.parent / "lambda_fn" / "function"


@dataclass(frozen=True)
class Package:
    zip_bytes: bytes
    model_dir: Path
    holdout_features: Path
    holdout_labels: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.zip_bytes).hexdigest()


def zip_files(files: Mapping[str, str | bytes]) -> bytes:
    """A deployment package from in-memory files: ``{"app.py": source}`` -> zip bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _model_is_current(model_dir: Path) -> bool:
    meta = model_dir / "model.json"
    if not (meta.is_file() and (model_dir / "model.joblib").is_file()):
        return False
    try:
        # The installed version from its metadata: importing scikit-learn to read it takes
        # seconds, which `harness demo` would pay for nothing once the model is trained.
        installed = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return False
    try:
        return bool(json.loads(meta.read_text()).get("sklearn_version") == installed)
    except ValueError:
        return False


def ensure_model(build_dir: Path) -> Path:
    """Train the example model into ``build_dir`` unless a current one is there."""
    if _model_is_current(build_dir / "model"):
        return build_dir / "model"
    try:  # the optional extra, imported only to train: scikit-learn takes seconds to import
        from lambda_fn.train import train
    except ImportError as exc:
        raise DeployError(
            f"training the example model needs scikit-learn: {exc} "
            "(install with: pip install 'harness[ml]')") from None
    train(build_dir)
    return build_dir / "model"


def _add_tree(archive: zipfile.ZipFile, root: Path, prefix: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            _add_file(archive, path, prefix + path.relative_to(root).as_posix())


def _add_file(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())


def build_package(build_dir: Path, source: Path = FUNCTION_SRC) -> Package:
    """A reproducible zip: the function's modules and requirements.txt at the root, the model
    under ``model/``."""
    if not source.is_dir():
        raise DeployError(f"function source not found: {source}")
    build_dir.mkdir(parents=True, exist_ok=True)
    model_dir = ensure_model(build_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add_tree(archive, source, "")
        _add_tree(archive, model_dir, "model/")
        # At the root, where the emulator looks for the function's dependencies (its packages
        # are linked from the harness's environment, or installed with pip, once per hash).
        if (source.parent / "requirements.txt").is_file():
            _add_file(archive, source.parent / "requirements.txt", "requirements.txt")
    holdout = build_dir / "holdout"
    return Package(buffer.getvalue(), model_dir, holdout / "test_features.npy",
                   holdout / "test_labels.npy")
