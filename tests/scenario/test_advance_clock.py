"""The ``advance_clock`` step, carried out against the session's emulator."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from harness.scenario.loader import load_scenario
from harness.scenario.model import StepError
from harness.scenario.session import ScenarioSession
from harness.scenario.steps import StepContext, execute


def _steps(tmp_path, text: str) -> Any:
    path = tmp_path / "clock.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return load_scenario(path, "clock.yaml")


def test_the_step_moves_the_emulators_clock(harness_endpoint, harness_clock, tmp_path) -> None:
    scenario = _steps(tmp_path, """
        scenario: clock
        steps:
          - advance_clock: 90
          - advance_clock: {seconds: 0.5}
        """)
    # The step needs no stack: only the session's endpoint.
    ctx = StepContext(ScenarioSession(harness_endpoint, tmp_path), None,  # type: ignore[arg-type]
                      scenario)
    before = harness_clock.offset
    outcomes = [execute(step, step.params, ctx) for step in scenario.steps]
    assert harness_clock.offset - before == pytest.approx(90.5)
    assert [outcome.output["seconds"] for outcome in outcomes] == [90, 0.5]
    assert outcomes[1].output["now"] > outcomes[0].output["now"]
    assert outcomes[0].summary.startswith("+90 s (harness time ")


def test_a_resolved_value_that_is_no_number_or_real_aws_is_a_clear_error(tmp_path) -> None:
    scenario = _steps(tmp_path, """
        scenario: clock
        steps:
          - advance_clock: 60
        """)
    step = scenario.steps[0]
    aws = StepContext(ScenarioSession(None, tmp_path), None, scenario)  # type: ignore[arg-type]
    with pytest.raises(StepError, match="needs the harness emulator's clock; real AWS has none"):
        execute(step, step.params, aws)
    with pytest.raises(StepError, match=r"seconds must be a number of seconds >= 0, got 'x'"):
        execute(step, {"seconds": "x"}, aws)
