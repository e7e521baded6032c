"""A Debian root filesystem from Debian's own packages (``debootstrap``), cached as a tarball.

This is the bottom layer of the stand-in base image, for machines that cannot pull one from a
registry but can reach a Debian mirror. The tarball is kept under the cache directory, named by a
hash of everything that decides its content, so a second build reuses it without the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.errors import UsageError

# Bump when the trimming below changes, so cached tarballs are rebuilt.
_LAYOUT_VERSION = 1
# What a Lambda runtime never reads: documentation, translations and apt's package lists.
_TRIMMED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
            "var/cache/apt", "var/lib/apt/lists", "var/log")


@dataclass(frozen=True)
class RootfsSpec:
    """What debootstrap installs."""

    suite: str = "bookworm"
    """Debian release; bookworm's python3 is 3.11."""
    mirror: str = "http://deb.debian.org/debian"
    packages: tuple[str, ...] = ("python3", "ca-certificates")
    variant: str = "minbase"

    @property
    def key(self) -> str:
        blob = json.dumps([asdict(self), _LAYOUT_VERSION], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def rootfs_tarball(spec: RootfsSpec, cache_dir: Path) -> Path:
    """The cached tarball for ``spec``, built first when missing (needs root and debootstrap)."""
    target = cache_dir / "rootfs" / f"{spec.suite}-{spec.key}.tar"
    if target.is_file():
        return target
    _check_can_debootstrap()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".debootstrap-", dir=target.parent))
    try:
        root = work / "root"
        _debootstrap(spec, root)
        _trim(root)
        partial = work / "rootfs.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."],
                       check=True)
        partial.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _check_can_debootstrap() -> None:
    if shutil.which("debootstrap") is None:
        raise UsageError("building the base image needs debootstrap "
                         "(Debian/Ubuntu: apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise UsageError("debootstrap needs root: run `harness image build-base` as root "
                         "(or with sudo) once; later builds reuse the cached root filesystem")


def _debootstrap(spec: RootfsSpec, root: Path) -> None:
    argv = ["debootstrap", f"--variant={spec.variant}", f"--include={','.join(spec.packages)}",
            spec.suite, str(root), spec.mirror]
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-5:])
        raise UsageError(f"debootstrap failed (exit {result.returncode}):\n{tail}")


def _trim(root: Path) -> None:
    for relative in _TRIMMED:
        path = root / relative
        if path.is_dir():
            shutil.rmtree(path)
            path.mkdir()
    # apt expects its cache and list directories to exist, with their partial/ subfolders.
    for relative in ("var/cache/apt/archives/partial", "var/lib/apt/lists/partial"):
        (root / relative).mkdir(parents=True, exist_ok=True)
