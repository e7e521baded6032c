"""The example function's pins come from the lock: check that they agree, or rewrite them.

    python tools/pins.py --check     exit 1 naming every pin that differs from requirements.lock
    python tools/pins.py --write     set lambda_fn/requirements.txt's pins to the lock's versions

The model is trained in the environment made from the lock, and the function refuses a model
from another scikit-learn, so a disagreement must fail when the lock is made (``./dev lock``
runs ``--write`` then ``--check``), never on a user's fresh clone.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
FUNCTION_REQUIREMENTS = ROOT / "lambda_fn" / "requirements.txt"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)(?P<rest>.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_versions(text: str) -> dict[str, set[str]]:
    """Every ``name==version`` of a lock (a name may appear once per environment marker)."""
    versions: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            versions.setdefault(canonical(match["name"]), set()).add(match["version"])
    return versions


def function_pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = _PIN.match(line.split("#", 1)[0].strip())
        if match:
            pins[canonical(match["name"])] = match["version"]
    return pins


def disagreements(lock_text: str, requirements_text: str) -> list[str]:
    """One line per function pin that the lock does not hold at exactly that one version."""
    locked = lock_versions(lock_text)
    problems = []
    for name, version in function_pins(requirements_text).items():
        found = locked.get(name)
        if not found:
            problems.append(f"{name}=={version} is pinned for the function but not in the lock")
        elif len(found) > 1:
            problems.append(f"{name} has several versions in the lock ({', '.join(sorted(found))})"
                            f": the function needs one")
        elif version not in found:
            problems.append(f"{name}=={version} for the function, {next(iter(found))} in the lock")
    return problems


def rewrite(lock_text: str, requirements_text: str) -> str:
    """The requirements file with each pin set to the lock's single version of it."""
    locked = lock_versions(lock_text)
    lines = []
    for line in requirements_text.splitlines():
        match = _PIN.match(line.strip())
        found = locked.get(canonical(match["name"])) if match else None
        if match and found and len(found) == 1:
            line = f"{match['name']}=={next(iter(found))}{match['rest']}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail if a pin differs from the lock")
    mode.add_argument("--write", action="store_true", help="set the pins to the lock's versions")
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--requirements", type=Path, default=FUNCTION_REQUIREMENTS)
    args = parser.parse_args(argv)
    lock_text = args.lock.read_text()
    requirements_text = args.requirements.read_text()
    if args.write:
        args.requirements.write_text(rewrite(lock_text, requirements_text))
        requirements_text = args.requirements.read_text()
    problems = disagreements(lock_text, requirements_text)
    for problem in problems:
        print(f"pins: {args.requirements.name}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
