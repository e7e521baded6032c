"""Init: the model is loaded once at import, and a broken or foreign model fails init clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sklearn


@pytest.fixture
def model_copy(trained, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained.model_dir, tmp_path / "model"))


def _set_metadata(model_dir: Path, **changes: object) -> None:
    path = model_dir / "model.json"
    metadata = json.loads(path.read_text())
    metadata.update(changes)
    path.write_text(json.dumps(metadata))


def test_model_from_another_sklearn_fails_init_with_clear_message(
    load_handler, fn, model_copy
) -> None:
    _set_metadata(model_copy, sklearn_version="0.24.2")
    with pytest.raises(fn.errors.ModelVersionMismatch) as error:
        load_handler(MODEL_DIR=str(model_copy))
    assert str(error.value) == (
        f"model trained with scikit-learn 0.24.2, runtime has {sklearn.__version__}; "
        "retrain with `python -m lambda_fn.train`"
    )


def test_version_mismatch_is_a_model_load_error(fn) -> None:
    assert issubclass(fn.errors.ModelVersionMismatch, fn.errors.ModelLoadError)
    assert fn.errors.ModelVersionMismatch.__name__ == "ModelVersionMismatch"


@pytest.mark.parametrize("missing", ["model.json", "model.joblib"])
def test_missing_model_file_fails_init_naming_it(load_handler, fn, model_copy, missing) -> None:
    (model_copy / missing).unlink()
    with pytest.raises(fn.errors.ModelNotFound) as error:
        load_handler(MODEL_DIR=str(model_copy))
    assert str(model_copy / missing) in str(error.value)
    assert "python -m lambda_fn.train" in str(error.value)


def test_metadata_lacking_fields_fails_init(load_handler, fn, model_copy) -> None:
    (model_copy / "model.json").write_text(json.dumps({"sklearn_version": sklearn.__version__}))
    with pytest.raises(fn.errors.ModelNotFound, match="lacks feature_names"):
        load_handler(MODEL_DIR=str(model_copy))


def test_metadata_disagreeing_with_model_fails_init(load_handler, fn, model_copy) -> None:
    _set_metadata(model_copy, n_features=7)
    with pytest.raises(fn.errors.ModelLoadError, match="expects 4 features"):
        load_handler(MODEL_DIR=str(model_copy))


def test_default_model_dir_is_next_to_handler(load_handler, fn) -> None:
    function_dir = Path(fn.model_store.__file__).parent
    with pytest.raises(fn.errors.ModelNotFound) as error:
        load_handler(MODEL_DIR=None)
    assert str(function_dir / "model" / "model.json") in str(error.value)


@pytest.mark.parametrize("name", ["MAX_ROWS", "MAX_OBJECT_BYTES"])
@pytest.mark.parametrize("value", ["many", "0", "-5"])
def test_malformed_limit_fails_init_naming_it(load_handler, name, value) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        load_handler(**{name: value})


def test_model_and_client_are_created_once_per_init(handler, helpers, s3, trained) -> None:
    model, client = handler.MODEL, handler.S3
    s3.put_object(Bucket="features-bucket", Key="h.npy", Body=trained.features_path.read_bytes())
    for _ in range(3):
        event = helpers.proxy_event({"bucket": "features-bucket", "key": "h.npy"})
        assert helpers.call(handler, event)[0] == 200
    assert handler.MODEL is model and handler.S3 is client
