"""docs/scenarios.md documents the whole schema; the example CI workflow is a valid workflow."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.scenario import schema

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "scenarios.md").read_text()


def _keys(shape: schema.Shape) -> set[str]:
    if isinstance(shape, schema.Obj):
        found = set(shape.fields)
        for spec in shape.fields.values():
            found |= _keys(spec.shape)
        return found
    if isinstance(shape, schema.ListOf):
        return _keys(shape.item)
    if isinstance(shape, schema.MapOf):
        return _keys(shape.value)
    if isinstance(shape, schema.Either):
        return set().union(*(_keys(option) for option in shape.options))
    if isinstance(shape, schema.StepUnion):
        found = set(shape.kinds) | set(shape.common)
        for kind in shape.kinds.values():
            found |= _keys(kind.params) | (_keys(kind.expect) if kind.expect else set())
        return found
    return set()


def _documented(key: str) -> bool:
    """In a code span as a whole word (`{min, max}`), or written as a YAML key (`key:`)."""
    return bool(re.search(rf"`[^`]*\b{re.escape(key)}\b[^`]*`", DOC)
                or re.search(rf"(?<![\w.-]){re.escape(key)}:", DOC))


def test_every_schema_key_is_documented():
    keys = _keys(schema.SCENARIO)
    # The walk reaches every level (top, step kinds, their parameters, nested expectations), so
    # the check below is not over an empty or shallow set...
    assert {"scenario", "steps", "upload", "post", "invoke", "expect", "status", "report",
            "cold", "property", "examples", "stack", "faults"} <= keys
    assert len(keys) > 50
    # ... and it can tell an undocumented key from a documented one.
    assert not _documented("no_such_schema_key")
    assert [key for key in sorted(keys) if not _documented(key)] == []


def test_the_example_workflow_is_a_valid_github_actions_workflow():
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("check-jsonschema is not installed")
    done = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows",
                           str(ROOT / "examples" / "github-actions.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (ROOT / "examples" / "github-actions.yml").read_text()
    assert "harness run scenarios/*.yaml --ci" in text and "python -m pytest" in text
