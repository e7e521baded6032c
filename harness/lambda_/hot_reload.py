"""Fingerprints of local code directories, so a saved change retires the warm environments.

Checked when an invocation resolves its function rather than by a watcher thread: nothing to
start or stop, and the next invocation after a save sees it. A scan stats every file (names,
mtimes, sizes; nothing is read), so it is reused for ``min_interval_s``: under load a
directory is scanned a few times a second, not once per request, and a save still reaches an
invocation within that interval. ``__pycache__`` and ``.git`` are left out: the runtime and
the user's tools write there without the code changing.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time

from harness.errors import InvalidParameterError

_IGNORED_DIRS = frozenset({"__pycache__", ".git"})


def tree_fingerprint(root: str) -> str:
    """A hash of every file's relative path, mtime, size and inode under ``root`` (an editor
    that saves by renaming a new file over the old one changes the inode)."""
    if not os.path.isdir(root):
        raise InvalidParameterError(f"hot-reload directory {root} does not exist")
    digest = hashlib.sha256()
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS)
        for name in sorted(files):
            path = os.path.join(parent, name)
            try:
                info = os.stat(path)
            except OSError:  # removed while walking: the next scan sees the tree without it
                continue
            digest.update(f"{os.path.relpath(path, root)}\0{info.st_mtime_ns}\0"
                          f"{info.st_size}\0{info.st_ino}\n".encode())
    return digest.hexdigest()


class Fingerprints:
    """``of(dir)``: the directory's fingerprint, rescanned at most every ``min_interval_s``."""

    def __init__(self, min_interval_s: float = 0.2) -> None:
        self._min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, str]] = {}

    def of(self, root: str) -> str:
        now = time.monotonic()
        with self._lock:
            cached = self._seen.get(root)
        if cached is not None and now - cached[0] < self._min_interval_s:
            return cached[1]
        fingerprint = tree_fingerprint(root)
        with self._lock:
            self._seen[root] = (now, fingerprint)
        return fingerprint
