"""The deployment files: the function's image and layout (its pins: tests/tools/test_lock.py)."""

from __future__ import annotations

from pathlib import Path

LAMBDA_FN = Path(__file__).resolve().parents[2] / "lambda_fn"


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
