"""The deployment files: pinned requirements match what the model is trained with; the image."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

LAMBDA_FN = Path(__file__).resolve().parents[2] / "lambda_fn"


def _pins() -> dict[str, str]:
    pins = {}
    for line in (LAMBDA_FN / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            pins[name.strip().lower()] = pinned.strip()
    return pins


def test_requirements_pin_exact_versions() -> None:
    pins = _pins()
    assert {"scikit-learn", "joblib", "numpy", "boto3"} <= set(pins)
    assert all(re.fullmatch(r"\d+(\.\d+)+", pinned) for pinned in pins.values()), pins


@pytest.mark.parametrize(
    "package", ["scikit-learn", "joblib", "numpy", "boto3", "scipy", "threadpoolctl", "narwhals"]
)
def test_requirements_match_the_training_environment(package: str) -> None:
    # The handler refuses a model whose scikit-learn differs from the runtime's.
    assert _pins()[package] == version(package)


def test_dockerfile_builds_from_the_lambda_base_and_runs_the_handler() -> None:
    text = (LAMBDA_FN / "Dockerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert instructions[0] == "ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12"
    assert instructions[1] == "FROM ${BASE_IMAGE}"
    assert instructions[-1] == 'CMD ["handler.lambda_handler"]'
    assert "--no-cache-dir" in text and "--no-index --find-links" in text
    assert "COPY function/ ${LAMBDA_TASK_ROOT}/" in text
    assert "COPY model/ ${LAMBDA_TASK_ROOT}/model/" in text


def test_function_directory_is_flat_top_level_modules() -> None:
    function_dir = LAMBDA_FN / "function"
    assert (function_dir / "handler.py").is_file()
    assert not (function_dir / "__init__.py").exists()
    assert not [p for p in function_dir.iterdir() if p.is_dir() and p.name != "__pycache__"]
