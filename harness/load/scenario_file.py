"""Reads a load scenario file: its name, the ``stack:`` to deploy and the ``load:`` section.

YAML reading (with line numbers) and the ``stack:`` schema are the scenario loader's
(`harness.scenario`); the ``load:`` section is parsed by `harness.load.spec`. Steps and property
sections, if the file has them, belong to ``harness run`` and are ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.deploy import StackSpec
from harness.errors import ScenarioError, UsageError
from harness.faults.model import FaultRule, parse_rule
from harness.load.spec import LoadSpec, parse_load_section
from harness.scenario.source import line_of, read_yaml


@dataclass(frozen=True)
class LoadScenario:
    name: str
    path: str
    stack: StackSpec
    load: LoadSpec
    description: str = ""
    faults: tuple[FaultRule, ...] = ()
    """Fault rules switched on for the whole replay (embedded emulator only)."""


def read_load_scenario(path: Path | str) -> LoadScenario:
    """The load scenario in ``path``; every mistake is a ScenarioError with file and line."""
    shown = str(path)
    document = read_yaml(Path(path), shown)
    if not isinstance(document, dict):
        raise ScenarioError("a scenario file must be a mapping at the top level", path=shown,
                            line=getattr(document, "line", 1))
    if document.get("load") is None:
        raise ScenarioError("has no 'load:' section (harness load needs one; see docs/load.md)",
                            path=shown, line=1)
    load = parse_load_section(document["load"], shown, line_of(document, "load"))
    stack = _stack(document.get("stack"), shown, line_of(document, "stack"))
    faults = _faults(document.get("faults"), shown, line_of(document, "faults"))
    return LoadScenario(name=str(document.get("scenario") or Path(path).stem), path=shown,
                        stack=stack, load=load, description=str(document.get("description", "")),
                        faults=faults)


def _faults(data: Any, path: str, line: int | None) -> tuple[FaultRule, ...]:
    """The ``faults:`` rules, each checked as the emulator checks them (docs/scenarios.md)."""
    from harness.scenario.loader import plain

    if data is None:
        return ()
    if not isinstance(data, list):
        raise ScenarioError("'faults' must be a list of fault rules", path=path, line=line)
    rules = []
    for index, raw in enumerate(data):
        at = line_of(data, index) or line
        if "${" in str(plain(raw)):
            raise ScenarioError(f"faults[{index}]: variables are not expanded in load files; "
                                "leave 'bucket' or 'function' out to match every one",
                                path=path, line=at)
        rule = plain(raw)
        if isinstance(rule, dict):
            rule.setdefault("id", f"fault-{index + 1}")  # fixed ids: the same hits each run
        try:
            rules.append(parse_rule(rule))
        except UsageError as error:
            raise ScenarioError(f"faults[{index}]: {error.message}", path=path,
                                line=at) from None
    return tuple(rules)


def _stack(data: Any, path: str, line: int | None) -> StackSpec:
    """The example stack with what ``stack:`` changes (same keys and checks as ``harness run``)."""
    from harness.scenario import schema

    if data is None:
        return StackSpec()
    problems: list[Any] = []
    schema.STACK.check(data, "stack", line, problems)
    if problems:
        raise ScenarioError(problems[0].text, path=path, line=problems[0].line)
    if data.get("function") is not None:
        raise ScenarioError("'stack.function' is not supported by harness load yet: it replays "
                            "against the example function", path=path,
                            line=line_of(data, "function"))
    base = StackSpec()
    bucket = data.get("bucket", base.bucket)
    env = {str(k): _env_text(v) for k, v in (data.get("env") or {}).items()}
    if data.get("allowed_buckets"):
        env["ALLOWED_BUCKETS"] = ",".join([bucket, *data["allowed_buckets"]])
    return StackSpec(region=data.get("region", base.region), bucket=bucket,
                     memory_mb=int(data.get("memory_mb", base.memory_mb)),
                     timeout_s=int(data.get("timeout_s", base.timeout_s)),
                     allow_pickle_features=bool(data.get("allow_pickle_features", False)),
                     extra_env=env, read_buckets=tuple(data.get("readable_buckets") or ()))


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
