"""Runs one scenario: deploy (or reuse) its stack, run its steps in order, then its property
section, and always clean up what it made. Returns a `ScenarioResult`; never raises for a
failing step. Ctrl-C or SIGTERM raises `RunInterrupted`, which carries what was done so far.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness import interrupts
from harness.errors import HarnessError
from harness.scenario import expectations
from harness.scenario.examples import example_from_json
from harness.scenario.model import Scenario, Step, StepError, stack_scope
from harness.scenario.properties import (
    PropertyOptions,
    PropertyResult,
    PropertyRun,
    reproduce_commands,
)
from harness.scenario.session import ScenarioSession
from harness.scenario.steps import StepContext, execute
from harness.scenario.variables import VariableError, resolve
from harness.targets import unmet_requirement

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
INTERRUPTED = "interrupted"
"""The outcome of the step that Ctrl-C or SIGTERM stopped."""
NOTHING_TO_RUN = "a load scenario: no steps or property section (run it with harness load)"


@dataclass(frozen=True)
class StepResult:
    step: Step
    outcome: str
    """passed, failed (an expectation missed), error (the step could not run), skipped or
    interrupted."""
    duration_ms: float = 0.0
    summary: str = ""
    failures: tuple[str, ...] = ()
    output: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    steps: tuple[StepResult, ...]
    duration_s: float
    properties: PropertyResult | None = None
    error: str | None = None
    """The scenario could not start (its stack did not deploy), or was interrupted outside its
    steps and property run."""
    skipped: str | None = None
    """Why there was nothing to run (a load-only scenario)."""
    interrupted: str | None = None
    """Set when Ctrl-C or SIGTERM stopped the run here (e.g. "interrupted by SIGINT"); the rest
    is what got done before."""

    @property
    def passed(self) -> bool:
        return (self.error is None and self.interrupted is None
                and all(s.outcome == PASSED for s in self.steps)
                and (self.properties is None or self.properties.passed))

    def failure_lines(self) -> list[str]:
        """Everything that went wrong, each line naming the step and where it is in the file."""
        where = self.scenario.shown_path
        lines = [f"{where}: {self.error}"] if self.error else []
        for result in self.steps:
            if result.outcome in (FAILED, ERROR, INTERRUPTED):
                head = f"{where}:{result.step.line}: step {result.step.title}"
                lines += [f"{head}: {failure}" for failure in result.failures]
        props = self.properties
        if props is not None and props.error:
            lines.append(f"{where}: property: {props.error}")
        if props is not None and props.failure is not None:
            section = self.scenario.properties
            head = f"{where}:{section.line if section else 0}: property"
            lines.append(f"{head}: failed after {props.examples} example(s)"
                         + (f" (seed {props.seed})" if props.seed is not None else ""))
            lines += ["  " + line for line in props.failure.render()]
        return lines


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a scenario; ``result`` is what it got through, marked so.

    A KeyboardInterrupt still: whatever does not look for the partial result (pytest) stops as
    it would on Ctrl-C."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.interrupted)
        self.result = result


@dataclass
class _Partial:
    """How far a scenario got, kept current so that an interruption can report it."""

    phase: str = "deploying the stack"
    steps: list[StepResult] = field(default_factory=list)
    current: Step | None = None
    current_started: float = 0.0
    properties: PropertyResult | None = None
    property_started: float = 0.0

    def result(self, scenario: Scenario, started: float, why: str) -> ScenarioResult:
        """The scenario as it stood: the running step (or property run) marked interrupted,
        the steps after it not run."""
        now = time.perf_counter()
        steps = list(self.steps)
        if self.phase == "steps" and self.current is not None \
                and self.current.index > len(steps):
            steps.append(StepResult(self.current, INTERRUPTED,
                                    (now - self.current_started) * 1000, why, (why,)))
        steps += [StepResult(step, SKIPPED, summary=f"not run: {why}")
                  for step in scenario.steps[len(steps):]]
        props = self.properties
        if self.phase == "property":
            props = PropertyResult(0, None, False, now - self.property_started, error=why)
        elif props is None and scenario.properties is not None:
            props = PropertyResult(0, None, False, 0.0, error=f"not run: {why}")
        error = None if self.phase in ("steps", "property") else f"{why} while {self.phase}"
        return ScenarioResult(scenario, tuple(steps), now - started, props, error=error,
                              interrupted=why)


class RunListener(Protocol):
    """Progress callbacks (the CLI prints them; the pytest items ignore them)."""

    def scenario_started(self, scenario: Scenario) -> None: ...
    def step_started(self, scenario: Scenario, step: Step) -> None: ...
    def step_finished(self, scenario: Scenario, result: StepResult) -> None: ...
    def property_started(self, scenario: Scenario, examples: int) -> None: ...
    def scenario_finished(self, result: ScenarioResult) -> None: ...


class QuietListener:
    def scenario_started(self, scenario: Scenario) -> None:
        return

    def step_started(self, scenario: Scenario, step: Step) -> None:
        return

    def step_finished(self, scenario: Scenario, result: StepResult) -> None:
        return

    def property_started(self, scenario: Scenario, examples: int) -> None:
        return

    def scenario_finished(self, result: ScenarioResult) -> None:
        return


class ScenarioRunner:
    def __init__(self, session: ScenarioSession, listener: RunListener | None = None,
                 options: PropertyOptions | None = None) -> None:
        self.session = session
        self.listener: RunListener = listener or QuietListener()
        self.options = options or PropertyOptions()

    def run(self, scenario: Scenario) -> ScenarioResult:
        started = time.perf_counter()
        self.listener.scenario_started(scenario)
        partial = _Partial()
        try:
            result = self._run(scenario, started, partial)
        except KeyboardInterrupt as exc:
            result = partial.result(scenario, started, interrupts.describe(exc))
            self.listener.scenario_finished(result)
            raise RunInterrupted(result) from exc
        self.listener.scenario_finished(result)
        return result

    def _run(self, scenario: Scenario, started: float, partial: _Partial) -> ScenarioResult:
        skipped = NOTHING_TO_RUN if not scenario.runnable else unmet_requirement(scenario.requires)
        if skipped:
            return ScenarioResult(scenario, (), 0.0, skipped=skipped)
        try:
            stack = self.session.stack_for(scenario.stack)
            template = self.session.template_of(scenario.stack)
            self.session.fresh_environments(stack, template.functions() if template else None)
        except HarnessError as error:
            return ScenarioResult(scenario, (), time.perf_counter() - started,
                                  error=f"the stack did not deploy: {error.message}")
        scope: dict[str, Any] = {"stack": stack_scope(stack, template), "steps": {}}
        try:
            scope["vars"] = resolve(dict(scenario.variables), {"stack": scope["stack"]})
        except VariableError as error:
            return ScenarioResult(scenario, (), time.perf_counter() - started,
                                  error=f"vars: {error}")
        ctx = StepContext(self.session, stack, scenario, template=template)
        installed: list[str] = []
        try:
            try:
                installed = self._install_faults(scenario.faults, scope)
            except (HarnessError, VariableError) as error:
                message = error.message if isinstance(error, HarnessError) else str(error)
                return ScenarioResult(scenario, (), time.perf_counter() - started,
                                      error=f"faults: {message}")
            steps, props = self._steps_and_properties(scenario, ctx, scope, partial)
        finally:
            self._remove_faults(installed)  # first: an S3 fault must not hit the clean-up
            self.session.clean(stack, ctx.made)
        return ScenarioResult(scenario, steps, time.perf_counter() - started, props)

    def _steps_and_properties(self, scenario: Scenario, ctx: StepContext, scope: dict[str, Any],
                              partial: _Partial
                              ) -> tuple[tuple[StepResult, ...], PropertyResult | None]:
        interrupts.check()
        partial.phase = "steps"
        steps = self._run_steps(scenario, ctx, scope, partial)
        props = None
        if scenario.properties is not None:
            partial.phase, partial.property_started = "property", time.perf_counter()
            props = (self._run_properties(scenario, ctx)
                     if all(s.outcome == PASSED for s in steps) else
                     PropertyResult(0, None, False, 0.0, error="not run: an earlier step failed"))
            partial.properties = props
        interrupts.check()
        partial.phase = "cleaning up"  # only once all ran: an interrupted step stays marked
        return steps, props

    def _install_faults(self, rules: tuple[Mapping[str, Any], ...],
                        scope: dict[str, Any]) -> list[str]:
        """Add ``rules`` (references resolved) to the emulator's injector; returns their ids."""
        if not rules:
            return []
        resolved = [resolve(dict(rule), scope) for rule in rules]
        return [str(rule["id"]) for rule in self.session.faults().add(*resolved)]

    def _remove_faults(self, ids: list[str]) -> None:
        if not ids:
            return
        client = self.session.faults()
        for rule_id in ids:
            try:
                client.remove(rule_id)
            except HarnessError:
                pass  # gone already (an emulator reset): nothing left to remove

    def _run_steps(self, scenario: Scenario, ctx: StepContext, scope: dict[str, Any],
                   partial: _Partial) -> tuple[StepResult, ...]:
        results = partial.steps
        for step in scenario.steps:
            interrupts.check()
            partial.current, partial.current_started = step, time.perf_counter()
            if results and results[-1].outcome != PASSED:
                result = StepResult(step, SKIPPED, summary="an earlier step failed")
            else:
                self.listener.step_started(scenario, step)
                result = self._run_step(step, ctx, scope)
            results.append(result)
            self.listener.step_finished(scenario, result)
        return tuple(results)

    def _run_step(self, step: Step, ctx: StepContext, scope: dict[str, Any]) -> StepResult:
        started = time.perf_counter()
        try:
            params = resolve(dict(step.params), scope)
            installed = self._install_faults(step.faults, scope)
            try:
                outcome = execute(step, params, ctx)
            finally:
                self._remove_faults(installed)
            expect = resolve(dict(step.expect), scope) if step.expect is not None else None
            failures = expectations.check(expect, outcome.observed, s3_step=outcome.s3_step)
        except (StepError, VariableError) as error:
            return _errored(step, str(error), started)
        except HarnessError as error:
            return _errored(step, error.message, started)
        except Exception as error:  # noqa: BLE001 - boto errors of invoke, mostly
            return _errored(step, _describe_error(error), started)
        if step.id is not None:
            scope["steps"][step.id] = outcome.output
        return StepResult(step, FAILED if failures else PASSED,
                          (time.perf_counter() - started) * 1000, outcome.summary,
                          tuple(failures), outcome.output)

    def _run_properties(self, scenario: Scenario, ctx: StepContext) -> PropertyResult:
        section = scenario.properties
        assert section is not None
        info = self.session.model_info(scenario.stack.function)
        classes = section.classes or tuple(info.get("classes") or ())
        run = PropertyRun(section, ctx, n_features=int(info.get("n_features", 4)),
                          classes=classes)
        reproduce = reproduce_commands(scenario.shown_path)
        try:
            not_ready = run.prepare()
        except Exception as error:  # noqa: BLE001 - the stack cannot take the known-good object
            not_ready = _describe_error(error)
        if not_ready:
            return PropertyResult(0, None, False, 0.0, error=not_ready)
        if self.options.only_example is not None:
            try:
                example = example_from_json(json.loads(self.options.only_example))
            except ValueError as error:
                return PropertyResult(0, None, False, 0.0, error=f"--only-example: {error}")
            self.listener.property_started(scenario, 1)
            return run.replay(example, reproduce)
        self.listener.property_started(scenario, self.options.examples or section.examples)
        return run.search(self.options, reproduce)


def _errored(step: Step, message: str, started: float) -> StepResult:
    return StepResult(step, ERROR, (time.perf_counter() - started) * 1000, message, (message,))


def _describe_error(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", type(error).__name__)
        return f"AWS answered {code}: {response['Error'].get('Message', error)}"
    return f"{type(error).__name__}: {error}"
