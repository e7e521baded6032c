from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

BIN = Path(sys.executable).parent


def harness_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


@dataclass
class Running:
    process: subprocess.Popen
    url: str
    env: dict[str, str]

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


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
    process = subprocess.Popen(harness_cmd("up", "--port", "0"), env=cli_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = ""
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(r"ready on (http://\S+)", line)
        if match:
            url = match.group(1)
            break
        if process.poll() is not None:
            break
    if not url:
        process.kill()
        pytest.fail(f"harness up did not start: {process.stderr.read() if process.stderr else ''}")
    env = dict(cli_env, AWS_ENDPOINT_URL=url)
    running = Running(process, url, env)
    yield running
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)
