"""lambda_fn.train: output layout, metadata, determinism, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris

from lambda_fn.train import TrainResult, main, train

PINNED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_train_writes_model_and_holdout_layout(trained: TrainResult) -> None:
    out = trained.model_dir.parent
    assert trained.model_dir == out / "model"
    assert trained.features_path == out / "holdout" / "test_features.npy"
    assert trained.labels_path == out / "holdout" / "test_labels.npy"
    assert sorted(_files(out)) == [
        "holdout/test_features.npy",
        "holdout/test_labels.npy",
        "model/model.joblib",
        "model/model.json",
    ]
    features = np.load(trained.features_path, allow_pickle=False)
    labels = np.load(trained.labels_path, allow_pickle=False)
    assert features.dtype == np.float64 and features.shape == (trained.n_test, 4)
    assert labels.dtype == np.int64 and labels.shape == (trained.n_test,)
    assert trained.n_test == 30  # 20% of iris's 150 rows


def test_holdout_split_is_stratified(trained: TrainResult) -> None:
    labels = np.load(trained.labels_path)
    assert np.bincount(labels).tolist() == [10, 10, 10]


def test_metadata_names_versions_features_and_classes(trained: TrainResult) -> None:
    metadata = json.loads((trained.model_dir / "model.json").read_text())
    assert metadata["sklearn_version"] == sklearn.__version__
    assert metadata["estimator"] == "LogisticRegression"
    assert metadata["dataset"] == "iris"
    assert metadata["feature_names"] == list(load_iris().feature_names)
    assert metadata["n_features"] == 4
    assert metadata["classes"] == [0, 1, 2] == list(trained.classes)
    trained_at = datetime.fromisoformat(metadata["trained_at"])
    assert trained_at.utcoffset() is not None and trained_at.utcoffset().total_seconds() == 0


def test_model_file_is_the_fitted_estimator(trained: TrainResult) -> None:
    estimator = joblib.load(trained.model_dir / "model.joblib")
    features = np.load(trained.features_path)
    labels = np.load(trained.labels_path)
    assert type(estimator).__name__ == "LogisticRegression"
    assert estimator.score(features, labels) == pytest.approx(trained.test_accuracy)
    # Deterministic: with seed 0 the model classifies all 30 held-out rows right (measured).
    assert trained.test_accuracy == 1.0
    assert estimator.predict(features).tolist() == labels.tolist()


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = train(tmp_path / "a", seed=3, now=PINNED)
    second = train(tmp_path / "b", seed=3, now=PINNED)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert (first.n_test, first.classes) == (second.n_test, second.classes)


def test_retraining_into_the_same_directory_is_idempotent(tmp_path: Path) -> None:
    train(tmp_path, seed=1, now=PINNED)
    before = _files(tmp_path)
    train(tmp_path, seed=1, now=PINNED)
    assert _files(tmp_path) == before


def test_another_seed_draws_another_split(tmp_path: Path) -> None:
    a = train(tmp_path / "a", seed=0)
    b = train(tmp_path / "b", seed=1)
    assert not np.array_equal(np.load(a.features_path), np.load(b.features_path))


def test_cli_trains_and_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--out", str(tmp_path), "--seed", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "holdout accuracy" in lines[0] and str(tmp_path / "model") in lines[0]
    assert (tmp_path / "model" / "model.joblib").is_file()


def test_cli_help_describes_options(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--out DIR" in out and "--seed" in out


def test_cli_reports_unwritable_output_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write to") and "Traceback" not in err
