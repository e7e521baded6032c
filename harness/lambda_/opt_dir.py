"""A function's layers as the one /opt directory a container mounts, as Lambda extracts them.

Lambda extracts a function's layers into /opt in the function's order, a later layer's files
over an earlier one's. A container can mount one directory there, so:

- one layer is mounted as it is (its unpacked directory, or a hot-reload directory in place, so
  a saved change is in /opt at once);
- several are merged into ``<state>/opt/<key>``, once per combination: hard links to the layers'
  files where the file system allows (no copy), else copies. The key names each layer's content
  (its CodeSha256, or the fingerprint of a directory used in place), so an edited hot-reload layer
  gets a new merge, which the new environment mounts: the edit makes another ``FunctionSpec``,
  and the old environments retire as they do in the process executor.

Merges that hold a hot-reload layer are made for this run only and removed by ``close()``; the
others are content-addressed and kept, like unpacked packages.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from harness.lambda_.spec import FunctionSpec


def merge_layers(layer_dirs: Sequence[str], target: Path) -> Path:
    """Merge ``layer_dirs`` (in the function's order) into ``target``, built under a temporary
    name and renamed into place; a concurrent merge that got there first wins."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".merge-", dir=target.parent))
    try:
        for layer in layer_dirs:
            _overlay(Path(layer), staging)
        staging.chmod(0o755)  # mkdtemp's 0700 would hide /opt from a function's own user
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def _overlay(source: Path, dest: Path) -> None:
    """Put ``source``'s tree over ``dest``'s: a file, link or directory of ``source`` replaces
    whatever ``dest`` has at the same path, except that two directories merge."""
    for parent, dirs, files in os.walk(source):
        here = Path(parent)
        out = dest / here.relative_to(source)
        for name in list(dirs):
            if (here / name).is_symlink():  # os.walk lists it but does not enter it
                dirs.remove(name)
                files.append(name)
            elif not (out / name).is_dir() or (out / name).is_symlink():
                _remove(out / name)
                (out / name).mkdir()
        for name in files:
            _place(here / name, out / name)


def _place(source: Path, dest: Path) -> None:
    _remove(dest)
    if source.is_symlink():
        dest.symlink_to(os.readlink(source))
        return
    try:
        os.link(source, dest)
    except OSError:  # another file system, or a file the kernel will not link for us
        shutil.copy2(source, dest)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def merge_key(layer_dirs: Sequence[str], revisions: Sequence[str]) -> str:
    """A name for the merge of these layers at these revisions (content hashes or
    fingerprints)."""
    blob = json.dumps([list(layer_dirs), list(revisions)])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class OptDirs:
    """Hands out the host directory to mount at /opt for a function, or None without layers."""

    def __init__(self, state_dir: Path) -> None:
        self._root = state_dir / "opt"
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._run_dir: Path | None = None
        """This run's own merges (of hot-reload layers): another emulator on the same state
        dir never mounts them, so ``close()`` can remove them."""

    def for_spec(self, spec: FunctionSpec) -> str | None:
        if not spec.layer_dirs:
            return None
        if len(spec.layer_dirs) == 1:
            return spec.layer_dirs[0]
        key = merge_key(spec.layer_dirs, spec.layer_revisions)
        target = (self._this_run() if spec.layers_in_place else self._root) / key
        with self._lock_for(key):
            if not target.is_dir():
                merge_layers(spec.layer_dirs, target)
        return str(target)

    def _this_run(self) -> Path:
        with self._lock:
            if self._run_dir is None:
                self._root.mkdir(parents=True, exist_ok=True)
                self._run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self._root))
                self._run_dir.chmod(0o755)
            return self._run_dir

    def _lock_for(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def close(self) -> None:
        """Remove this run's merges of hot-reload layers (their containers are gone by now)."""
        with self._lock:
            run_dir, self._run_dir = self._run_dir, None
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
