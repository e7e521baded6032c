"""The lock is the one source of versions: the example function's pins and the environment that
``./dev`` makes both agree with it, and a disagreement fails at lock time, not on a fresh clone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PINS = ROOT / "tools" / "pins.py"
LOCKED_ENV = ROOT / "tools" / "locked_env.py"
FUNCTION_REQUIREMENTS = ROOT / "lambda_fn" / "requirements.txt"

LOCK_TEXT = """\
boto3==1.44.5 \\
    --hash=sha256:aa
    # via harness
numpy==2.4.6 \\
    --hash=sha256:bb
networkx==3.6.1 ; python_full_version < '3.12' \\
    --hash=sha256:cc
networkx==3.7 ; python_full_version >= '3.12' \\
    --hash=sha256:dd
"""


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          check=False)


def test_function_pins_agree_with_the_lock() -> None:
    result = _run(PINS, "--check")
    assert result.returncode == 0, result.stderr


def test_the_function_pins_the_model_stack_exactly() -> None:
    pins = {}
    for line in FUNCTION_REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{line!r} is not an exact pin"
            pins[name.lower()] = version
    assert {"scikit-learn", "joblib", "numpy", "boto3"} <= set(pins)


def test_a_pin_that_differs_from_the_lock_fails_the_check(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK_TEXT)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# keep me\nboto3==1.44.8\nnumpy==2.4.6\n")
    result = _run(PINS, "--check", "--lock", str(lock), "--requirements", str(requirements))
    assert result.returncode == 1
    assert "boto3==1.44.8 for the function, 1.44.5 in the lock" in result.stderr
    assert "numpy" not in result.stderr


def test_write_takes_the_lock_versions_and_keeps_comments(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK_TEXT)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# keep me\nboto3==1.44.8  # provided by Lambda\nnumpy==2.4.6\n")
    result = _run(PINS, "--write", "--lock", str(lock), "--requirements", str(requirements))
    assert result.returncode == 0, result.stderr
    assert requirements.read_text() == (
        "# keep me\nboto3==1.44.5  # provided by Lambda\nnumpy==2.4.6\n")


def test_a_pin_missing_from_the_lock_or_ambiguous_in_it_fails(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK_TEXT)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("networkx==3.7\nscipy==1.17.1\n")
    result = _run(PINS, "--check", "--lock", str(lock), "--requirements", str(requirements))
    assert result.returncode == 1
    assert "networkx has several versions in the lock (3.6.1, 3.7)" in result.stderr
    assert "scipy==1.17.1 is pinned for the function but not in the lock" in result.stderr


def test_locked_env_names_what_differs(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("pytest==0.0.1 \\\n    --hash=sha256:aa\n")
    result = _run(LOCKED_ENV, str(lock))
    assert result.returncode == 1
    assert "pytest: locked 0.0.1, installed " in result.stderr
    assert "installed but not in the lock" in result.stderr


@pytest.mark.skipif(not list(Path(sys.prefix).glob(".installed-*")),
                    reason="not the environment ./dev made from the lock (tox or another venv)")
def test_the_environment_dev_made_is_exactly_the_lock() -> None:
    result = _run(LOCKED_ENV, str(LOCK))
    assert result.returncode == 0, result.stderr
