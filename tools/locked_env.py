"""Does this interpreter's environment hold exactly what a lock pins?

    python tools/locked_env.py requirements.lock

Exit 0 when every package the lock pins for this interpreter is installed at that version and
nothing else is (besides the project itself and the venv's own pip); else exit 1 naming each
difference. ``./dev`` runs it after every install, and the suite runs it too.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

ALLOWED_EXTRA = {"harness", "pip"}  # the project itself (editable) and the venv's own seed
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
                  r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked_here(lock_text: str) -> dict[str, str]:
    """The lock's pins whose environment markers hold for this interpreter."""
    pins = {}
    for line in lock_text.splitlines():
        match = _PIN.match(line)
        if match and (not match["marker"] or Marker(match["marker"]).evaluate()):
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def differences(pins: dict[str, str], have: dict[str, str]) -> list[str]:
    problems = [f"{name}: locked {version}, installed {have.get(name, 'nothing')}"
                for name, version in sorted(pins.items()) if have.get(name) != version]
    problems += [f"{name} {version}: installed but not in the lock"
                 for name, version in sorted(have.items())
                 if name not in pins and name not in ALLOWED_EXTRA]
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/locked_env.py LOCKFILE", file=sys.stderr)
        return 2
    problems = differences(locked_here(Path(argv[0]).read_text()), installed())
    for problem in problems:
        print(f"locked_env: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
