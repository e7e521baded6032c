from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.up_process import Running, running_up

BIN = Path(sys.executable).parent


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HARNESS_STATE_DIR=str(tmp_path / "state"), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-west-2",
               PYTHONUNBUFFERED="1")
    env.pop("AWS_PROFILE", None)
    return env


@pytest.fixture
def harness_up(cli_env: dict[str, str]) -> Iterator[Running]:
    """`harness up --port 0` in a subprocess; stopped (and checked) at the end."""
    with running_up(cli_env) as running:
        yield running
