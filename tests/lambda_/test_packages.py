"""What a zip function may import: the runtime's packages and its requirements.txt, built once."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.errors import ServiceError
from harness.lambda_.packages import (
    Interpreter,
    PackageCache,
    Unresolvable,
    requirement_lines,
    resolve,
    version_note,
)

NUMPY = importlib.metadata.version("numpy")

INSTALLED = {
    "app-lib": {"name": "app-lib", "version": "2.0",
                "requires": ["helper>=1", "old-backport; python_version < '3.8'",
                             "fancy; extra == 'fancy'"]},
    "helper": {"name": "helper", "version": "1.5", "requires": []},
    "fancy": {"name": "fancy", "version": "0.1", "requires": ["helper"]},
    "old-backport": {"name": "old-backport", "version": "1.0", "requires": []},
}
MARKERS = {"python_version": "3.11", "python_full_version": "3.11.7", "os_name": "posix",
           "sys_platform": "linux", "platform_machine": "x86_64",
           "platform_python_implementation": "CPython", "platform_release": "",
           "platform_system": "Linux", "platform_version": "", "implementation_name": "cpython",
           "implementation_version": "3.11.7"}


# -- pure parts --------------------------------------------------------------------------------
def test_requirement_lines_drop_comments_hashes_and_join_continuations():
    text = ("# pinned\nnumpy==2.0  # the array\n\njoblib==1.4 \\\n    --hash=sha256:abc\n"
            "scipy>=1.10\n")
    assert requirement_lines(text) == ["numpy==2.0", "joblib==1.4", "scipy>=1.10"]


def test_option_lines_need_pip():
    with pytest.raises(Unresolvable, match="needs pip"):
        requirement_lines("--index-url https://example.invalid/simple\nnumpy\n")


def test_resolve_takes_what_requirements_need_and_nothing_else():
    assert resolve(["app-lib==2.0"], INSTALLED, MARKERS) == ["app-lib", "helper"]


def test_resolve_follows_extras():
    assert resolve(["app-lib[fancy]"], INSTALLED, MARKERS) == ["app-lib", "fancy", "helper"]


def test_resolve_evaluates_markers_for_the_functions_interpreter():
    old = {**MARKERS, "python_version": "3.7"}
    assert "old-backport" in resolve(["app-lib"], INSTALLED, old)


def test_resolve_refuses_another_version_or_a_missing_package():
    with pytest.raises(Unresolvable, match="2.0 is installed"):
        resolve(["app-lib==3.0"], INSTALLED, MARKERS)
    with pytest.raises(Unresolvable, match="not installed"):
        resolve(["nothing-like-it"], INSTALLED, MARKERS)


def test_version_note_only_when_the_interpreter_differs():
    here = Interpreter("python", "3.11.7", "k", {})
    assert version_note("python3.11", here) is None
    assert version_note(None, here) is None
    assert version_note("python3.12", here) == (
        "harness: function runtime python3.12 runs on python 3.11.7 here "
        "(set HARNESS_LAMBDA_PYTHON or `harness up --function-python` to match it)")


# -- built directories -------------------------------------------------------------------------
def _task(tmp_path: Path, requirements: str | None, name: str = "task") -> str:
    root = tmp_path / name
    root.mkdir()
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return str(root)


def test_runtime_dir_holds_the_lambda_runtime_and_nothing_of_the_harness(tmp_path):
    runtime = PackageCache(tmp_path / "state").runtime_dir()
    names = set(os.listdir(runtime))
    assert {"awslambdaric", "boto3", "botocore", "s3transfer", "jmespath", "dateutil",
            "urllib3", "six.py"} <= names
    assert not names & {"moto", "sklearn", "numpy", "harness", "pytest"}


def test_a_function_without_requirements_gets_only_the_runtime(tmp_path):
    cache = PackageCache(tmp_path / "state")
    imports = cache.imports_for(_task(tmp_path, None))
    assert imports.path == (str(cache.runtime_dir()),)
    assert imports.notes == ()


def test_requirements_are_linked_from_installed_packages_once(tmp_path):
    state = tmp_path / "state"
    first = PackageCache(state).imports_for(_task(tmp_path, f"numpy=={NUMPY}\n", "a"))
    deps = Path(first.path[0])
    assert deps.parent == state / "deps"
    assert (deps / "numpy").is_symlink() and (deps / f"numpy-{NUMPY}.dist-info").exists()
    assert "linked from" in first.notes[0]
    # Another process, another function with the same file: the directory is reused as is.
    again = PackageCache(state).imports_for(_task(tmp_path, f"numpy=={NUMPY}\n", "b"))
    assert again.path == first.path
    assert again.notes == ()


def test_a_requirement_pip_cannot_install_leaves_the_function_without_it(tmp_path):
    cache = PackageCache(tmp_path / "state", pip_args=("--no-index",))
    imports = cache.imports_for(_task(tmp_path, "harness-no-such-package==1.0\n"))
    assert imports.path == (str(cache.runtime_dir()),)
    (note,) = imports.notes
    assert "could not be installed" in note and "harness-no-such-package" in note


def _wheel(directory: Path, name: str, version: str) -> Path:
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n",
             f"{name}-{version}.dist-info/METADATA":
                 f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{name}-{version}.dist-info/WHEEL":
                 "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def test_requirements_not_installed_here_are_built_with_pip(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "tinydep", "1.0")
    cache = PackageCache(tmp_path / "state",
                         pip_args=("--no-index", "--find-links", str(wheels)))
    imports = cache.imports_for(_task(tmp_path, "tinydep==1.0\n"))
    assert "installed with pip" in imports.notes[0]
    assert (Path(imports.path[0]) / "tinydep" / "__init__.py").is_file()


def test_an_interpreter_without_awslambdaric_is_a_clear_error(tmp_path):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    with pytest.raises(ServiceError, match="has no awslambdaric"):
        PackageCache(tmp_path / "state", python=python).runtime_dir()


def test_a_configured_interpreter_is_described_by_itself(tmp_path):
    # Another path to this same environment: described by running it, not in-process.
    siblings = [os.path.join(os.path.dirname(sys.executable), n) for n in ("python3", "python")]
    python = next((p for p in siblings if os.path.exists(p) and p != sys.executable),
                  sys.executable)
    cache = PackageCache(tmp_path / "state", python=python)
    assert cache.python == python
    interpreter = cache.interpreter()
    assert interpreter.version == ".".join(map(str, sys.version_info[:3]))
    assert (cache.runtime_dir() / "awslambdaric").is_symlink()
