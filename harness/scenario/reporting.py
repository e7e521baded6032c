"""How results are shown: progress lines, the summary table, JUnit XML and JSON; pure formatting
(the writers take a path, nothing else touches files)."""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from harness.scenario.examples import example_to_text
from harness.scenario.model import Scenario, Step
from harness.scenario.properties import PropertyResult
from harness.scenario.runner import (
    ERROR,
    FAILED,
    INTERRUPTED,
    PASSED,
    SKIPPED,
    ScenarioResult,
    StepResult,
)

LONG_WAIT_S = 5
"""A `wait` step at least this long prints a line as it starts."""
_MARKS = {PASSED: "ok", FAILED: "FAILED", ERROR: "ERROR", SKIPPED: "skipped",
          INTERRUPTED: "INTERRUPTED"}


class ConsoleProgress:
    """Prints one line per step as it finishes (to stderr, so stdout keeps the summary)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def scenario_started(self, scenario: Scenario) -> None:
        self._say(f"==> {scenario.name} ({scenario.shown_path})")

    def step_started(self, scenario: Scenario, step: Step) -> None:
        """A wait of several seconds says so as it starts: a silent console looks hung."""
        seconds = step.params.get("seconds") if step.kind == "wait" else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) \
                and seconds >= LONG_WAIT_S:
            self._say(f"    [{step.index}/{len(scenario.steps)}] wait: waiting {seconds:g} s ...")

    def step_finished(self, scenario: Scenario, result: StepResult) -> None:
        total = len(scenario.steps)
        step = result.step
        timing = f" ({result.duration_ms:.0f} ms)" if result.outcome != SKIPPED else ""
        self._say(f"    [{step.index}/{total}] {step.kind} {result.summary} ... "
                  f"{_MARKS[result.outcome]}{timing}")
        for failure in result.failures:
            self._say(f"          - {failure}")

    def property_started(self, scenario: Scenario, examples: int) -> None:
        self._say(f"    property: up to {examples} generated input(s) ...")

    def scenario_finished(self, result: ScenarioResult) -> None:
        if result.skipped:
            self._say(f"    skipped: {result.skipped}")
            return
        for step in result.steps:
            if step.outcome == INTERRUPTED:  # the others were shown as they finished
                self.step_finished(result.scenario, step)
        if result.error:
            self._say(f"    ERROR: {result.error}")
        props = result.properties
        if props is not None and (props.examples or props.error):
            mark = "ok" if props.passed else \
                "INTERRUPTED" if props.error == result.interrupted else "FAILED"
            self._say(f"    property: {_property_cell(props)} ... {mark} "
                      f"({props.duration_s:.1f} s)")
        self._say(f"    {_verdict(result)} in {result.duration_s:.1f} s")


def _property_cell(props: PropertyResult | None) -> str:
    if props is None:
        return "-"
    if props.error and not props.examples:
        return "not run"
    return f"{props.examples} examples"


def summary_table(results: Sequence[ScenarioResult]) -> str:
    """The table printed at the end of ``harness run``, with every failure below it."""
    rows = [("SCENARIO", "FILE", "STEPS", "PROPERTY", "TIME", "RESULT")]
    for result in results:
        passed = sum(1 for s in result.steps if s.outcome == PASSED)
        rows.append((result.scenario.name, result.scenario.shown_path,
                     f"{passed}/{len(result.scenario.steps)}", _property_cell(result.properties),
                     f"{result.duration_s:.1f} s", _verdict(result)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in rows]
    failed = [result for result in results if not result.passed]
    skipped = sum(1 for result in results if result.skipped)
    interrupted = sum(1 for result in results if result.interrupted)
    lines.append("")
    lines.append(f"{len(results)} scenario(s): {len(results) - len(failed) - skipped} passed, "
                 f"{len(failed) - interrupted} failed" + (f", {skipped} skipped" if skipped else "")
                 + (f", {interrupted} interrupted" if interrupted else ""))
    if failed:
        lines += ["", "FAILURES"]
        for result in failed:
            lines += result.failure_lines()
    return "\n".join(lines)


def _verdict(result: ScenarioResult) -> str:
    if result.skipped:
        return "skipped"
    if result.interrupted:
        return "INTERRUPTED"
    return "passed" if result.passed else "FAILED"


# -- JUnit XML -----------------------------------------------------------------------------------

def junit_xml(results: Sequence[ScenarioResult]) -> bytes:
    """One <testsuite> per scenario, one <testcase> per step and one for the property run."""
    root = ET.Element("testsuites", name="harness scenarios")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    for result in results:
        suite = ET.SubElement(root, "testsuite", name=result.scenario.name,
                              file=result.scenario.shown_path, timestamp=stamp,
                              time=f"{result.duration_s:.3f}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case in _cases(result):
            suite.append(case)
            counts["tests"] += 1
            for kind, key in (("failure", "failures"), ("error", "errors"),
                              ("skipped", "skipped")):
                if case.find(kind) is not None:
                    counts[key] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _cases(result: ScenarioResult) -> list[ET.Element]:
    scenario = result.scenario
    classname = f"scenarios.{Path(scenario.shown_path).stem}"
    cases = []
    if result.skipped:
        case = _case(classname, "scenario", scenario.shown_path, 1, 0.0)
        ET.SubElement(case, "skipped", message=result.skipped)
        cases.append(case)
    if result.error:
        case = _case(classname, "setup", scenario.shown_path, 1, 0.0)
        kind = "interrupted" if result.interrupted else "setup"
        ET.SubElement(case, "error", message=result.error, type=kind).text = result.error
        cases.append(case)
    for step_result in result.steps:
        step = step_result.step
        case = _case(classname, f"step {step.title}", scenario.shown_path, step.line,
                     step_result.duration_ms / 1000)
        text = "\n".join(step_result.failures)
        if step_result.outcome == FAILED:
            ET.SubElement(case, "failure", message=step_result.failures[0],
                          type="expectation").text = text
        elif step_result.outcome in (ERROR, INTERRUPTED):
            kind = "step" if step_result.outcome == ERROR else INTERRUPTED
            ET.SubElement(case, "error", message=step_result.failures[0], type=kind).text = text
        elif step_result.outcome == SKIPPED:
            ET.SubElement(case, "skipped", message=step_result.summary)
        ET.SubElement(case, "system-out").text = step_result.summary
        cases.append(case)
    if result.properties is not None:
        cases.append(_property_case(classname, scenario, result.properties))
    return cases


def _property_case(classname: str, scenario: Scenario, props: PropertyResult) -> ET.Element:
    line = scenario.properties.line if scenario.properties else 1
    case = _case(classname, "property", scenario.shown_path, line, props.duration_s)
    if props.failure is not None:
        lines = props.failure.render()
        ET.SubElement(case, "failure", message=lines[0], type="property").text = \
            "\n".join(lines)
    elif props.error:
        kind = "skipped" if props.error.startswith("not run") else "error"
        ET.SubElement(case, kind, message=props.error)
    ET.SubElement(case, "system-out").text = f"{props.examples} examples" + (
        f", seed {props.seed}" if props.seed is not None else "")
    return case


def _case(classname: str, name: str, file: str, line: int, seconds: float) -> ET.Element:
    return ET.Element("testcase", classname=classname, name=name, file=file, line=str(line),
                      time=f"{seconds:.3f}")


# -- JSON ----------------------------------------------------------------------------------------

def results_json(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    return {"passed": all(r.passed for r in results),
            "interrupted": next((r.interrupted for r in results if r.interrupted), None),
            "scenarios": [_scenario_json(r) for r in results]}


def _scenario_json(result: ScenarioResult) -> dict[str, Any]:
    props = result.properties
    return {
        "name": result.scenario.name,
        "file": result.scenario.shown_path,
        "passed": result.passed,
        "duration_s": round(result.duration_s, 3),
        "error": result.error,
        "skipped": result.skipped,
        "interrupted": result.interrupted,
        "steps": [{"index": s.step.index, "kind": s.step.kind, "id": s.step.id,
                   "name": s.step.name, "line": s.step.line, "outcome": s.outcome,
                   "duration_ms": round(s.duration_ms, 3), "summary": s.summary,
                   "failures": list(s.failures)} for s in result.steps],
        "property": None if props is None else {
            "passed": props.passed, "examples": props.examples, "seed": props.seed,
            "derandomized": props.derandomized, "duration_s": round(props.duration_s, 3),
            "error": props.error,
            "failure": None if props.failure is None else {
                "example": example_to_text(props.failure.example),
                "description": props.failure.example.describe(),
                "problems": list(props.failure.problems),
                "reproduce": list(props.failure.reproduce)}},
    }


def write_junit(path: Path, results: Sequence[ScenarioResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(results))


def write_json(path: Path, results: Sequence[ScenarioResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results_json(results), indent=2, default=str) + "\n",
                    encoding="utf-8")
