"""`harness up` in a subprocess, for tests: its own process, so its own moto state."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import psutil
import pytest


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


@contextmanager
def running_up(env: dict[str, str], stderr: IO[str] | None = None) -> Iterator[Running]:
    """`harness up --port 0` in a subprocess (its own moto state); stopped at the end. Its
    stderr goes to ``stderr`` when given: a long run's log lines would fill an unread pipe."""
    process = subprocess.Popen(harness_cmd("up", "--port", "0"), env=env,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE if stderr is None else stderr, text=True)
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
    try:
        yield Running(process, url, dict(env, AWS_ENDPOINT_URL=url))
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def harness_up_with(env: dict[str, str], *args: str) -> Iterator[str]:
    """`harness up --port 0 ARGS` in a subprocess: its URL; stopped at the end."""
    process = subprocess.Popen(harness_cmd("up", "--port", "0", *args), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline and process.poll() is None:
            match = re.search(r"ready on (http://\S+)", process.stdout.readline())
            url = match.group(1) if match else ""
        assert url, "harness up did not start"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
