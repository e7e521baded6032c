"""What an interpreter has installed, reported as JSON; runs inside the interpreter it describes.

Standard library only: the harness runs it in-process for its own interpreter and as a script
(``python _inventory.py identity|index|entries NAME...``) for one the user configures.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any


def identity() -> dict[str, Any]:
    """The interpreter's version, real path, marker environment and package directories."""
    import site

    dirs = [d for d in site.getsitepackages() if os.path.isdir(d)]
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    return {
        "version": ".".join(str(part) for part in sys.version_info[:3]),
        "executable": os.path.realpath(sys.executable),
        "prefix": sys.prefix,
        "site": dirs,
        "markers": _marker_environment(),
    }


def _marker_environment() -> dict[str, str]:
    """PEP 508 environment markers (what ``packaging.markers.default_environment`` computes)."""
    impl = sys.implementation
    version = ".".join(str(part) for part in impl.version[:3])
    if impl.version.releaselevel != "final":
        version += impl.version.releaselevel[0] + str(impl.version.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def index() -> dict[str, dict[str, Any]]:
    """Every installed distribution: name -> {version, requires}. The first on sys.path wins."""
    from importlib.metadata import distributions

    found: dict[str, dict[str, Any]] = {}
    for dist in distributions():
        headers = _headers(dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "")
        name = (headers.get("name") or [""])[0]
        if name and _canonical(name) not in found:
            found[_canonical(name)] = {"name": name,
                                       "version": (headers.get("version") or [""])[0],
                                       "requires": headers.get("requires-dist", [])}
    return found


def _headers(text: str) -> dict[str, list[str]]:
    """The header fields of a METADATA file (the email parser is ten times slower for this)."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line:
            break  # the description follows
        if line[0] in " \t":
            continue  # a folded continuation: no field read here is folded
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), []).append(value.strip())
    return fields


def entries(names: list[str]) -> dict[str, list[str]]:
    """Absolute paths of each distribution's top-level modules, packages and metadata directory.

    Read from its RECORD; a distribution without one, an editable one (a ``.pth`` file) or one
    with files outside its directory only maps to an empty list: "cannot be linked".
    """
    import csv
    from importlib.metadata import distribution

    result: dict[str, list[str]] = {}
    for name in names:
        dist = distribution(name)
        root = str(dist.locate_file(""))
        # The first column of RECORD, read directly: ``dist.files`` builds a path object per file.
        firsts = {row[0].replace("\\", "/").split("/", 1)[0]
                  for row in csv.reader((dist.read_text("RECORD") or "").splitlines()) if row}
        if any(first.endswith(".pth") for first in firsts):
            result[name] = []  # an editable install: only ``site`` can put it on the path
            continue
        result[name] = [os.path.join(root, first) for first in sorted(firsts)
                        if first not in ("", "..", "__pycache__")
                        and os.path.exists(os.path.join(root, first))]
    return result


def _canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "identity":
        out: Any = identity()
    elif command == "index":
        out = index()
    elif command == "entries":
        out = entries(argv[2:])
    else:
        print(f"usage: {argv[0]} identity|index|entries NAME...", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
