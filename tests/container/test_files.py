"""The container files validate offline: the compose file against the Compose spec, and every
Dockerfile with hadolint. Both tools come from PyPI (the test extra); without them, these skip."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = [ROOT / "lambda_fn" / "Dockerfile", ROOT / "Dockerfile.harness",
               ROOT / "harness" / "container" / "base" / "Dockerfile"]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install 'harness[test]')")
    return found


def test_compose_file_follows_the_compose_spec():
    checker = _tool("check-jsonschema")
    result = subprocess.run([checker, "--builtin-schema", "vendor.compose-spec",
                             str(ROOT / "docker-compose.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_lints_clean(dockerfile: Path):
    result = subprocess.run([_tool("hadolint"), str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_pins_a_localstack_that_needs_no_auth_token():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["localstack"]["image"] == "localstack/localstack:4.14.0"
    assert services["harness"]["network_mode"] == "host"


def test_function_dockerfile_keeps_the_real_base_as_its_default():
    text = (ROOT / "lambda_fn" / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12\nFROM ${BASE_IMAGE}" in text
