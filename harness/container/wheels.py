"""Files an offline image build copies in, fetched on the host with pip and cached.

Wheels are downloaded for the image's Python and platform (not the host's), so ``docker build``
installs them with ``pip --no-index`` and needs no network. AWS's Runtime Interface Emulator is
taken from the ``aws-sam-cli`` wheel, which ships it; only that one file is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from harness.errors import UsageError

SAM_CLI_VERSION = "1.170.0"
"""The aws-sam-cli release whose wheel the RIE binary is taken from."""
_RIE_PREFIX = "samcli/local/rapid/aws-lambda-rie-"
# manylinux tags a glibc >= 2.28 image accepts; numpy/scipy/scikit-learn publish 2_28 wheels.
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def download_wheels(requirements: Sequence[str], python_version: str, cache_dir: Path) -> Path:
    """A directory holding a wheel for every requirement (and dependency), for ``python_version``.

    Cached by the exact requirement lines and Python version: a repeated call asks no index.
    """
    key = hashlib.sha256(json.dumps([sorted(requirements), python_version,
                                     PLATFORMS]).encode()).hexdigest()[:16]
    target = cache_dir / "wheels" / f"cp{python_version.replace('.', '')}-{key}"
    if (target / ".complete").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
            "--only-binary=:all:", "--python-version", python_version,
            "--implementation", "cp", "-d", str(target)]
    for platform in PLATFORMS:
        argv += ["--platform", platform]
    _pip(argv + list(requirements), f"download wheels for Python {python_version}")
    (target / ".complete").write_text("\n".join(sorted(requirements)) + "\n")
    return target


def copy_wheels(source: Path, dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in source.glob("*.whl"))
    for name in names:
        _link_or_copy(source / name, dest / name)
    return names


def runtime_interface_emulator(cache_dir: Path, version: str = SAM_CLI_VERSION,
                               arch: str = "x86_64") -> Path:
    """AWS's RIE binary for ``arch`` out of the aws-sam-cli wheel, cached by that wheel's version.

    The wheel is downloaded once with ``pip download --no-deps`` (never installed) and only the
    one member is kept.
    """
    member = f"{_RIE_PREFIX}{arch}"
    name = "aws-lambda-rie" if arch == "x86_64" else f"aws-lambda-rie-{arch}"
    target = cache_dir / "rie" / version / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        _pip([sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
              "--no-deps", "--only-binary=:all:", f"aws-sam-cli=={version}", "-d", tmp],
             f"download aws-sam-cli {version} (for its Runtime Interface Emulator)")
        wheel = next(Path(tmp).glob("aws_sam_cli-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            try:
                data = archive.read(member)
            except KeyError:
                raise UsageError(f"aws-sam-cli {version} has no {member}") from None
        partial = Path(tmp) / name
        partial.write_bytes(data)
        partial.chmod(0o755)
        partial.rename(target)  # atomic: a reader never sees half a binary
    return target


def _pip(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-6:])
        raise UsageError(f"could not {what} (pip exit {result.returncode}):\n{tail}")


def _link_or_copy(source: Path, dest: Path) -> None:
    if dest.exists():
        return
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
