"""The AWS SAM CLI in an environment of its own, made once from requirements-sam.lock."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM_LOCK = ROOT / "requirements-sam.lock"


def _installer(python: Path) -> list[str]:
    """uv where ./dev put it (or on PATH), else the environment's own pip."""
    for uv in (Path(sys.prefix) / ".tools" / "bin" / "uv", shutil.which("uv")):
        if uv and Path(uv).is_file():
            return [str(uv), "pip", "install", "--python", str(python)]
    return [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    """The ``sam`` executable of aws-sam-cli, installed exactly as the lock says (hashes)."""
    digest = hashlib.sha256(SAM_LOCK.read_bytes()).hexdigest()[:16]
    home = Path(sys.prefix) / ".sam-cli"
    sam = home / "bin" / "sam"
    stamp = home / f".installed-{digest}"
    # One install at a time: each test worker (pytest-xdist) asks for it in its own session.
    with open(Path(sys.prefix) / ".sam-cli.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file():
            _install(home, stamp)
    return sam


def _install(home: Path, stamp: Path) -> None:
    """A fresh environment at ``home`` with aws-sam-cli from the lock; ``stamp`` when done."""
    shutil.rmtree(home, ignore_errors=True)
    venv.create(home, with_pip=True)
    done = subprocess.run([*_installer(home / "bin" / "python"), "--require-hashes", "-r",
                           str(SAM_LOCK)], capture_output=True, text=True, check=False,
                          timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"installing aws-sam-cli from {SAM_LOCK.name} failed:\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    stamp.touch()
