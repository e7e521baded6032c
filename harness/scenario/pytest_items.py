"""Scenario files as pytest tests: one item per file, run on the session's emulator and stacks.

Only the files a project names are collected (``harness.pytest_plugin.is_scenario_file``: the
``harness_scenarios`` ini option and ``--harness-scenarios``), never any YAML file that happens
to look like a scenario.

The item is a `pytest.Function` whose only argument is the ``harness_scenario_session`` fixture,
so it shares the plugin's session emulator (and honours ``--harness-endpoint``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario
from harness.scenario.properties import PropertyOptions
from harness.scenario.runner import ScenarioResult, ScenarioRunner
from harness.scenario.session import ScenarioSession


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(f"scenario {result.scenario.name} failed")
        self.result = result


def _scenario(harness_scenario_session: Any) -> None:
    """Stand-in callable: pytest reads the fixtures an item needs from its signature."""


class ScenarioFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        shown = _shown(self.path, self.config.rootpath)
        try:
            scenario = load_scenario(self.path, shown)
        except ScenarioError as error:
            raise self.CollectError(error.message) from None
        item = ScenarioItem.from_parent(self, name=scenario.name, callobj=_scenario,
                                        scenario=scenario)
        for need in scenario.requires:
            item.add_marker(f"requires_{need}")
        if not scenario.runnable:
            from harness.scenario.runner import NOTHING_TO_RUN

            item.add_marker(pytest.mark.skip(reason=NOTHING_TO_RUN))
        return [item]


class ScenarioItem(pytest.Function):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from harness.pytest_plugin import ci_mode

        session: ScenarioSession = self.funcargs["harness_scenario_session"]  # type: ignore[assignment]
        runner = ScenarioRunner(session,
                                options=PropertyOptions(ci=ci_mode(self.config)))
        result = runner.run(self.scenario)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],  # type: ignore[override]
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return "\n".join(excinfo.value.result.failure_lines())
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.scenario.name}"


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
