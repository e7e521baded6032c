"""Summary table, JUnit XML and JSON from results (pure)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.scenario.examples import FeaturesExample
from harness.scenario.model import PropertySection, Scenario, Step
from harness.scenario.properties import PropertyFailure, PropertyResult
from harness.scenario.reporting import junit_xml, results_json, summary_table
from harness.scenario.runner import (
    ERROR,
    FAILED,
    INTERRUPTED,
    PASSED,
    SKIPPED,
    ScenarioResult,
    StepResult,
)

STEPS = (Step(1, "create_bucket", {}, None, 5), Step(2, "upload", {}, None, 9, id="features"),
         Step(3, "post", {}, None, 14, name="predict"), Step(4, "list", {}, None, 20))


def scenario(name: str, path: str, steps=STEPS, props=None) -> Scenario:
    return Scenario(Path(path), path, name, steps, properties=props)


def failing() -> ScenarioResult:
    return ScenarioResult(scenario("slip", "scenarios/slip.yaml"), (
        StepResult(STEPS[0], PASSED, 4.0, "b in eu-west-2"),
        StepResult(STEPS[1], FAILED, 6.0, "s3://x/k", ("S3 answered NoSuchBucket: gone",)),
        StepResult(STEPS[2], SKIPPED, summary="an earlier step failed"),
        StepResult(STEPS[3], SKIPPED, summary="an earlier step failed")), 1.5)


def with_property() -> ScenarioResult:
    example = FeaturesExample("npy", "float64", (1, 4), (float("nan"), 0.0, 0.0, 0.0))
    failure = PropertyFailure(example, ("no input may give a 5xx: got 500 {}",),
                              ("harness run p.yaml --only-example '{}'",))
    return ScenarioResult(scenario("props", "p.yaml", (), PropertySection(line=3)), (), 2.0,
                          PropertyResult(40, 7, False, 1.9, failure))


def passing() -> ScenarioResult:
    step = Step(1, "invoke", {}, None, 4)
    return ScenarioResult(scenario("ok", "ok.yaml", (step,)),
                          (StepResult(step, ERROR, 1.0, "x", ("AWS answered Oops: no",)),), 0.1)


def test_summary_table_lists_every_scenario_then_the_failures():
    table = summary_table([failing(), with_property()])
    lines = table.splitlines()
    assert lines[0].split() == ["SCENARIO", "FILE", "STEPS", "PROPERTY", "TIME", "RESULT"]
    assert lines[1].split() == ["slip", "scenarios/slip.yaml", "1/4", "-", "1.5", "s", "FAILED"]
    assert lines[2].split() == ["props", "p.yaml", "0/0", "40", "examples", "2.0", "s", "FAILED"]
    assert "2 scenario(s): 0 passed, 2 failed" in lines
    assert ("scenarios/slip.yaml:9: step 2 upload (features): S3 answered NoSuchBucket: gone"
            in lines)
    assert "p.yaml:3: property: failed after 40 example(s) (seed 7)" in lines
    assert ("  falsifying example (shrunk): npy features, dtype float64, shape (1, 4): "
            "[[nan, 0.0, 0.0, 0.0]]") in lines
    assert "  reproduce: harness run p.yaml --only-example '{}'" in lines


def test_junit_xml_has_a_testcase_per_step_and_property():
    root = ET.fromstring(junit_xml([failing(), with_property(), passing()]))
    assert root.attrib["tests"] == "6"
    assert (root.attrib["failures"], root.attrib["errors"], root.attrib["skipped"]) == \
        ("2", "1", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["slip", "props", "ok"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["step 1 create_bucket", "step 2 upload (features)",
                                              "step 3 post (predict)", "step 4 list"]
    assert cases[1].find("failure").get("message") == "S3 answered NoSuchBucket: gone"
    assert cases[1].get("line") == "9" and cases[1].get("classname") == "scenarios.slip"
    prop = suites[1].find("testcase")
    assert prop.get("name") == "property" and "reproduce:" in prop.find("failure").text
    assert suites[2].find("testcase/error").get("message") == "AWS answered Oops: no"


def test_json_results_are_strict_json():
    document = results_json([failing(), with_property()])
    text = json.dumps(document, allow_nan=False)
    again = json.loads(text)
    assert again["passed"] is False
    failure = again["scenarios"][1]["property"]["failure"]
    assert failure["example"].startswith('{"kind":"features"')
    assert again["scenarios"][0]["steps"][1]["outcome"] == "failed"


def interrupted() -> ScenarioResult:
    why = "interrupted by SIGTERM"
    return ScenarioResult(scenario("cut", "cut.yaml"), (
        StepResult(STEPS[0], PASSED, 4.0, "b in eu-west-2"),
        StepResult(STEPS[1], INTERRUPTED, 2.0, why, (why,)),
        StepResult(STEPS[2], SKIPPED, summary=f"not run: {why}"),
        StepResult(STEPS[3], SKIPPED, summary=f"not run: {why}")), 0.5, interrupted=why)


def test_an_interrupted_scenario_is_reported_as_such_everywhere():
    table = summary_table([interrupted(), passing()]).splitlines()
    assert table[1].split()[-1] == "INTERRUPTED"
    assert "2 scenario(s): 0 passed, 1 failed, 1 interrupted" in table
    assert "cut.yaml:9: step 2 upload (features): interrupted by SIGTERM" in table

    root = ET.fromstring(junit_xml([interrupted()]))
    cases = root.findall("testsuite/testcase")
    error, skipped = cases[1].find("error"), cases[2].find("skipped")
    assert error is not None and skipped is not None
    assert (error.get("type"), error.get("message")) == ("interrupted", "interrupted by SIGTERM")
    assert skipped.get("message") == "not run: interrupted by SIGTERM"

    document = results_json([interrupted()])
    assert document["passed"] is False and document["interrupted"] == "interrupted by SIGTERM"
    assert [s["outcome"] for s in document["scenarios"][0]["steps"]] == \
        ["passed", "interrupted", "skipped", "skipped"]


def test_a_long_wait_says_so_as_it_starts_and_a_short_one_does_not():
    import io

    from harness.scenario.reporting import LONG_WAIT_S, ConsoleProgress

    steps = (Step(1, "wait", {"seconds": LONG_WAIT_S}, None, 2),
             Step(2, "wait", {"seconds": LONG_WAIT_S - 0.5}, None, 3),
             Step(3, "wait", {"seconds": "${later}"}, None, 4),
             Step(4, "invoke", {}, None, 5))
    waits = scenario("waits", "w.yaml", steps)
    out = io.StringIO()
    progress = ConsoleProgress(out)
    for step in steps:
        progress.step_started(waits, step)
    assert out.getvalue() == f"    [1/4] wait: waiting {LONG_WAIT_S:g} s ...\n"
