"""Shared test helpers, and the check that the suite leaves no process or thread behind."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable

import psutil
import pytest

# Threads the harness names; any of them alive after the session is a leak.
_HARNESS_THREAD_PREFIXES = ("runtime-api-", "runtime-output-", "emulator-http", "lambda-reaper",
                            "lambda-housekeeping", "lambda-logs",
                            "lambda-event")


def build_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def make_zip() -> Callable[[dict[str, str]], bytes]:
    """``make_zip({"app.py": source})`` -> zip bytes for create_function."""
    return build_zip


def leftovers() -> list[str]:
    found = [f"process {p.pid}: {' '.join(p.cmdline()[:4])}"
             for p in psutil.Process().children(recursive=True) if p.is_running()
             and p.status() != psutil.STATUS_ZOMBIE]
    found += [f"thread {t.name}" for t in threading.enumerate()
              if t.name.startswith(_HARNESS_THREAD_PREFIXES)]
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every fixture is torn down: nothing the harness started may still run."""
    import time

    deadline = time.monotonic() + 5
    left = leftovers()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = leftovers()
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "harness left these running after the suite:\n  " + "\n  ".join(left)
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
