"""Fixtures for running a handler under AWS's Runtime Interface Emulator.

The harness side uses tests/conftest.py's ``create_function`` and ``lambda_client``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .rie import RieBinary, RieProcess, RieUnavailable, locate


@pytest.fixture(scope="session")
def rie_binary() -> RieBinary:
    """The RIE from the aws-sam-cli wheel; the test skips, saying why, where it cannot be had."""
    try:
        return locate()
    except RieUnavailable as exc:
        pytest.skip(f"AWS's Runtime Interface Emulator is unavailable: {exc}")


@pytest.fixture
def run_rie(rie_binary: RieBinary, tmp_path: Path) -> Iterator[Callable[..., RieProcess]]:
    """``run_rie({"app.py": source}, timeout_s=1)`` -> a started RIE; stopped after the test."""
    started: list[RieProcess] = []

    def run(files: dict[str, str], handler: str = "app.handler",
            timeout_s: float = 3.0) -> RieProcess:
        code_dir = tmp_path / f"rie-task-{len(started)}"
        code_dir.mkdir()
        for name, text in files.items():
            (code_dir / name).write_text(text)
        process = RieProcess(rie_binary.path, code_dir, handler, timeout_s=timeout_s)
        started.append(process)
        try:
            return process.start()
        except RieUnavailable as exc:
            pytest.skip(f"AWS's Runtime Interface Emulator cannot run here: {exc}")

    yield run
    for process in started:
        process.stop()
