"""What a zip function may import besides its package: Lambda's runtime and its requirements.txt.

On Lambda a function sees its zip (/var/task) and what the Python runtime brings (/var/runtime:
awslambdaric, boto3 and their dependencies), nothing else. Here both come from the installed
packages of the interpreter that runs the function, linked (never copied) into directories under
the state dir:

    <state>/runtime/<key>/  awslambdaric, boto3 and what they need       (once per interpreter)
    <state>/deps/<key>/     requirements.txt and what it needs            (once per file hash)

A requirements.txt whose every requirement (and their requirements) the interpreter has installed,
in a matching version, is linked from there: offline, about 0.1 s. Anything else is built with
``pip install --target``, with ``LambdaConfig.pip_args`` added (e.g. ``--no-index --find-links
DIR``). Both are built under a temporary name and renamed into place, so later environments only
look the directory up. A requirements.txt that cannot be installed leaves the function without it:
its imports then fail with ``Runtime.ImportModuleError``, as a package missing them fails on Lambda,
and its log says why.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ServiceError
from harness.lambda_ import _inventory

RUNTIME_PACKAGES = ("awslambdaric", "boto3")
"""What Lambda's Python runtime provides in /var/runtime (with their own dependencies)."""
_INVENTORY_SCRIPT = Path(_inventory.__file__)
_PIP_TIMEOUT_S = 900.0


class Unresolvable(Exception):
    """The interpreter's installed packages cannot serve these requirements."""


@dataclass(frozen=True)
class Interpreter:
    """The Python that runs zip functions, as far as building their import path goes."""

    executable: str
    version: str
    """e.g. '3.11.7'."""
    key: str
    """Changes when the interpreter or its installed packages change."""
    markers: Mapping[str, str] = field(hash=False, compare=False)
    """PEP 508 marker environment, to evaluate requirements as this interpreter would."""

    @property
    def runtime_name(self) -> str:
        """The Lambda runtime identifier this interpreter stands for, e.g. 'python3.11'."""
        return "python" + ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class FunctionImports:
    """Where a function's imports come from, after its task root."""

    path: tuple[str, ...]
    """Its dependencies' directory (if it has a requirements.txt) and the runtime's."""
    runtime_dir: str
    notes: tuple[str, ...] = ()
    """Lines for the function's log, printed before its own init output."""


def version_note(runtime: str | None, interpreter: Interpreter) -> str | None:
    """A log line when the function declares another Python than the one running it."""
    if not runtime or runtime == interpreter.runtime_name:
        return None
    return (f"harness: function runtime {runtime} runs on python {interpreter.version} here "
            "(set HARNESS_LAMBDA_PYTHON or `harness up --function-python` to match it)")


def probe(executable: str | None) -> Interpreter:
    """Describe an interpreter; None is the harness's own (no process is started for it)."""
    data = _inventory.identity() if executable is None else _run_inventory(executable, "identity")
    stamps = []
    for directory in data["site"]:
        try:
            stamps.append((directory, os.stat(directory).st_mtime_ns))
        except OSError:
            continue
    blob = json.dumps([executable or sys.executable, data["executable"], data["prefix"],
                       data["version"], stamps])
    return Interpreter(executable=executable or sys.executable, version=data["version"],
                       key=hashlib.sha256(blob.encode()).hexdigest()[:24],
                       markers=data["markers"])


def _run_inventory(executable: str, *args: str) -> Any:
    # -I: the script's own directory (harness/lambda_) must not shadow the standard library.
    try:
        done = subprocess.run([executable, "-I", str(_INVENTORY_SCRIPT), *args],
                              capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceError(f"cannot run the function interpreter {executable}: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ServiceError(f"the function interpreter {executable} failed to describe its "
                           f"packages: {last}")
    return json.loads(done.stdout)


def requirement_lines(text: str) -> list[str]:
    """The requirements of a requirements.txt; options (``-r``, ``--index-url``...) need pip."""
    lines = []
    for raw in re.sub(r"\\\r?\n", " ", text).splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        # A hash pins the file pip would download; the installed distribution stands in for it.
        line = re.sub(r"\s--hash[=\s]\S+", "", line).strip()
        if not line:
            continue
        if line.startswith("-"):
            raise Unresolvable(f"the option line {line!r} needs pip")
        lines.append(line)
    return lines


def resolve(requirements: Iterable[str], installed: Mapping[str, Mapping[str, Any]],
            markers: Mapping[str, str]) -> list[str]:
    """Names of the installed distributions that satisfy ``requirements``, with all they require.

    ``installed`` maps canonical names to ``{"name", "version", "requires"}``.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    chosen: dict[str, set[str]] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(text, ("",)) for text in requirements]
    while todo:
        text, extras = todo.pop()
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise Unresolvable(f"cannot read the requirement {text!r}: {exc}") from None
        if req.marker is not None and not any(
                req.marker.evaluate({**markers, "extra": extra}) for extra in extras):
            continue
        if req.url:
            raise Unresolvable(f"{text}: a URL requirement needs pip")
        name = canonicalize_name(req.name)
        dist = installed.get(name)
        if dist is None:
            raise Unresolvable(f"{req.name} is not installed")
        if not req.specifier.contains(dist["version"], prereleases=True):
            raise Unresolvable(f"{text} is wanted, {dist['version']} is installed")
        known = chosen.get(name)
        new = set(req.extras) - (known or set())
        if known is not None and not new:
            continue
        chosen[name] = (known or set()) | new
        scope = tuple(sorted(new)) if known is not None else ("", *sorted(new))
        todo.extend((r, scope) for r in dist["requires"])
    return sorted(installed[name]["name"] for name in chosen)


class _BuildFailed(Exception):
    pass


class PackageCache:
    """Builds, once, and then hands out the directories zip functions import from."""

    def __init__(self, state_dir: Path, python: str | None = None,
                 pip_args: Sequence[str] = ()) -> None:
        self._state_dir = state_dir
        self._python = python
        self._pip_args = tuple(pip_args)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._interpreter: Interpreter | None = None
        self._installed: dict[str, dict[str, Any]] | None = None
        self._runtime_dir: Path | None = None
        self._by_root: dict[str, FunctionImports] = {}
        self._failed: dict[str, str] = {}

    @property
    def python(self) -> str:
        """The command that runs functions."""
        return self._python or sys.executable

    def interpreter(self) -> Interpreter:
        with self._lock_for("interpreter"):
            if self._interpreter is None:
                self._interpreter = probe(self._python)
            return self._interpreter

    def imports_for(self, task_root: str) -> FunctionImports:
        """The import path of the function unpacked at ``task_root`` (which never changes)."""
        found = self._by_root.get(task_root)
        if found is not None:
            return found
        with self._lock_for("root:" + task_root):
            found = self._by_root.get(task_root)
            if found is None:
                runtime = self.runtime_dir()
                deps, notes = self._deps_for(Path(task_root) / "requirements.txt")
                path = (str(deps), str(runtime)) if deps is not None else (str(runtime),)
                found = FunctionImports(path, str(runtime), tuple(notes))
                self._by_root[task_root] = found
        return found

    def runtime_dir(self) -> Path:
        """awslambdaric, boto3 and their dependencies, linked from the interpreter."""
        if self._runtime_dir is not None:
            return self._runtime_dir
        interpreter = self.interpreter()
        target = self._state_dir / "runtime" / interpreter.key
        with self._lock_for("runtime"):
            if not target.is_dir():
                installed = self._index()
                if "awslambdaric" not in installed:
                    raise ServiceError(
                        f"the function interpreter {self.python} has no awslambdaric, the Lambda "
                        f"runtime client (install it there: {self.python} -m pip install "
                        "awslambdaric)")
                roots = [name for name in RUNTIME_PACKAGES if name in installed]
                try:
                    self._link(target, resolve(roots, installed, interpreter.markers))
                except Unresolvable as exc:
                    raise ServiceError(f"cannot assemble the Lambda runtime from "
                                       f"{self.python}'s packages: {exc}") from None
            self._runtime_dir = target
        return target

    # -- requirements.txt ----------------------------------------------------------------------
    def _deps_for(self, requirements: Path) -> tuple[Path | None, list[str]]:
        try:
            text = requirements.read_bytes()
        except FileNotFoundError:
            return None, []
        interpreter = self.interpreter()
        key = hashlib.sha256(
            text + json.dumps([interpreter.key, self._pip_args]).encode()).hexdigest()[:24]
        target = self._state_dir / "deps" / key
        if target.is_dir():
            return target, []
        with self._lock_for("deps:" + key):
            if target.is_dir():
                return target, []
            if key in self._failed:
                return None, [self._failed[key]]
            started = time.perf_counter()
            try:
                how = self._build_deps(requirements, text, target)
            except _BuildFailed as exc:
                note = (f"harness: requirements.txt could not be installed, the function runs "
                        f"without it: {exc}")
                self._failed[key] = note
                return None, [note]
            took = (time.perf_counter() - started) * 1000
            return target, [f"harness: requirements.txt {how} in {took:.0f} ms into {target} "
                            "(once per requirements.txt and interpreter)"]

    def _build_deps(self, requirements: Path, text: bytes, target: Path) -> str:
        try:
            names = resolve(requirement_lines(text.decode("utf-8", errors="replace")),
                            self._index(), self.interpreter().markers)
            self._link(target, names)
            return f"linked from {self.python}'s installed packages"
        except Unresolvable as exc:
            local = str(exc)
        self._pip_install(requirements, target, local)
        return f"installed with pip (not linked: {local})"

    def _pip_install(self, requirements: Path, target: Path, local: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".pip-", dir=target.parent))
        command = [self.python, "-m", "pip", "install", "--target", str(staging), "--no-input",
                   "--disable-pip-version-check", "--quiet", "-r", str(requirements),
                   *self._pip_args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False,
                                  timeout=_PIP_TIMEOUT_S, cwd=requirements.parent)
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise _BuildFailed(f"{local}; pip did not run: {exc}") from None
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            said = " ".join(errors) or (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise _BuildFailed(f"{local}; pip: {said}")
        _move_into_place(staging, target)

    # -- building blocks -----------------------------------------------------------------------
    def _index(self) -> dict[str, dict[str, Any]]:
        with self._lock_for("index"):
            if self._installed is None:
                self._installed = (_inventory.index() if self._python is None
                                   else _run_inventory(self._python, "index"))
            return self._installed

    def _entries(self, names: list[str]) -> dict[str, list[str]]:
        if not names:
            return {}
        if self._python is None:
            return _inventory.entries(names)
        return dict(_run_inventory(self._python, "entries", *names))

    def _link(self, target: Path, names: list[str]) -> None:
        """A directory of symbolic links to the top-level entries of these distributions."""
        entries = self._entries(names)
        unlinkable = [name for name in names if not entries.get(name)]
        if unlinkable:
            raise Unresolvable(f"{', '.join(unlinkable)} cannot be linked (no RECORD, or an "
                               "editable install)")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".link-", dir=target.parent))
        try:
            for name in names:
                for path in entries[name]:
                    link = staging / os.path.basename(path)
                    if not link.exists() and not link.is_symlink():
                        link.symlink_to(path)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _move_into_place(staging, target)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename a finished build to its final name; a concurrent build that got there first wins."""
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
