"""Scenario files: YAML with line numbers, the schema, the cross-checks, the built model."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import ScenarioInvalid, load_scenario
from harness.scenario.schema import STEP
from harness.scenario.source import parse_yaml

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path, "s.yaml")
    return caught.value.message.splitlines()


def test_yaml_containers_remember_their_lines():
    document = parse_yaml("a: 1\nb:\n  - x: 2\n  - 3\n", "f.yaml")
    assert document.line_of("b") == 2
    assert document["b"].line_of(1) == 4
    assert document["b"][0].line_of("x") == 3


def test_yaml_syntax_error_names_file_and_line():
    with pytest.raises(ScenarioError, match=r"^f\.yaml:3: not valid YAML"):
        parse_yaml("a: 1\nb: [1,\nc: }\n", "f.yaml")


def test_duplicate_key_is_an_error_not_a_silent_overwrite():
    with pytest.raises(ScenarioError,
                       match=r"f\.yaml:2: .*duplicate key 'a' \(first given on line 1\)"):
        parse_yaml("a: 1\na: 2\n", "f.yaml")


def test_a_typo_in_a_step_name_is_an_error_with_its_line(tmp_path):
    found = problems_of(tmp_path, """
        scenario: typo
        steps:
          - create_bucket: {bucket: b1}
          - uplaod:
              key: x.npy
        """)
    assert found == ["s.yaml:4: steps[1].uplaod: unknown step 'uplaod' (did you mean 'upload'?); "
                     "steps are: " + ", ".join(STEP.kinds)]


def test_every_problem_in_a_file_is_reported_in_line_order(tmp_path):
    found = problems_of(tmp_path, """
        scenario: many
        stack:
          regoin: eu-west-2
        steps:
          - upload:
              key: x.npy
              format: nyp
              data: {dataset: iris_holdout, rows: [[1]]}
          - post: {json: {}}
            expect:
              status: 4xy
              json: [{path: a}]
          - wait: {seconds: 1}
            expect: {status: 200}
        """)
    assert [line.split(":")[1] for line in found] == ["3", "7", "8", "11", "12", "14"]
    assert "stack.regoin: unknown key (did you mean 'region'?)" in found[0]
    assert "expected one of npy, csv, json, joblib, got 'nyp' (did you mean 'npy'?)" in found[1]
    assert "give exactly one of dataset, generator, rows, file, text (got dataset and rows)" \
        in found[2]
    assert "a wait step takes no expect" in found[5]


def test_missing_required_key_and_wrong_type(tmp_path):
    found = problems_of(tmp_path, """
        scenario: 5
        steps:
          - upload: {data: {text: x}}
        """)
    assert found == ["s.yaml:1: scenario: expected a string, got an integer (5)",
                     "s.yaml:3: steps[0].upload: missing required key 'key'"]


def test_references_must_name_earlier_steps_and_known_fields(tmp_path):
    found = problems_of(tmp_path, """
        scenario: refs
        vars: {k: x.npy}
        steps:
          - id: mk
            create_bucket: {bucket: b1}
          - post:
              json: {bucket: "${steps.mk.bucket}", key: "${steps.later.key}"}
            expect:
              predictions: {count: "${steps.mk.rows}"}
              json: [{path: a, equals: "${stack.bukket}"}, {path: b, equals: "${vars.nope}"}]
          - id: later
            list: {}
        """)
    assert found == [
        "s.yaml:7: steps[1]: ${steps.later.key}: no earlier step has that id (earlier steps: mk)",
        "s.yaml:9: steps[1]: ${steps.mk.rows}: a create_bucket step gives bucket, region",
        "s.yaml:10: steps[1]: ${stack.bukket}: the stack has invoke_url, api_url, bucket, "
        "function_name, function_arn, api_id, stage, region, endpoint_url",
        "s.yaml:10: steps[1]: ${vars.nope}: no such entry in vars (vars: k)",
    ]


def test_joblib_in_a_property_run_needs_the_pickle_opt_in(tmp_path):
    found = problems_of(tmp_path, """
        scenario: p
        property: {formats: [npy, joblib]}
        """)
    assert found == ["s.yaml:2: property.formats: joblib features need "
                     "stack.allow_pickle_features: true (the function refuses pickles otherwise)"]


def test_a_valid_file_builds_the_model(tmp_path):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "extra.py").write_text("X = 1\n")
    path = write(tmp_path, """
        scenario: good
        stack:
          region: us-east-1
          allow_pickle_features: true
          env: {MAX_ROWS: 50, FLAG: true}
          function: {dir: fn, files: {"more.py": "Y = 2"}, handler: extra.handler}
        vars: {key: a.npy}
        steps:
          - id: up
            upload: {key: "${vars.key}", data: {generator: {rows: 3}}}
          - list:
          - post: {json: {bucket: "${stack.bucket}", key: "${steps.up.key}"}}
            expect: {status: 200, predictions: {count: "${steps.up.rows}"}}
        property: {examples: 7, seed: 3, inputs: [keys]}
        """)
    scenario = load_scenario(path)
    assert scenario.name == "good"
    assert [step.kind for step in scenario.steps] == ["upload", "list", "post"]
    assert scenario.steps[0].id == "up" and scenario.steps[0].line == 9
    assert scenario.steps[1].params == {}
    assert scenario.stack.env == (("FLAG", "1"), ("MAX_ROWS", "50"))
    assert scenario.stack.function is not None
    assert dict(scenario.stack.function.files) == {"extra.py": "X = 1\n", "more.py": "Y = 2"}
    assert scenario.properties is not None and scenario.properties.examples == 7
    assert scenario.properties.inputs == ("keys",) and scenario.properties.line == 14


def test_a_load_only_scenario_loads_but_has_nothing_to_run(tmp_path):
    path = write(tmp_path, """
        scenario: load only
        load: {users: 2, requests: 10}
        """)
    scenario = load_scenario(path)
    assert scenario.has_load and not scenario.runnable


def test_a_bad_load_section_is_reported_with_its_line(tmp_path):
    found = problems_of(tmp_path, """
        scenario: load only
        load: {requests: 10}
        """)
    assert len(found) == 1 and found[0].startswith("s.yaml:2:") and "users" in found[0]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid(path):
    load_scenario(path)


def test_fault_rules_are_checked_with_their_lines(tmp_path):
    found = problems_of(tmp_path, """
        scenario: faults
        faults:
          - {target: s3, kind: error, error: SlowDown}
          - {target: s3, kind: error, error: Nope}
          - {target: lambda, kind: crash, function: "${stack.fn}"}
        steps:
          - post: {json: {}}
            faults:
              - {target: lambda, kind: explode}
        """)
    assert found == [
        "s.yaml:4: faults[1]: s3 error must be one of SlowDown, InternalError, "
        "ServiceUnavailable, NoSuchKey, AccessDenied, got 'Nope'",
        "s.yaml:5: faults[2]: ${stack.fn}: the stack has invoke_url, api_url, bucket, "
        "function_name, function_arn, api_id, stage, region, endpoint_url",
        "s.yaml:9: steps[0].faults[0]: lambda fault kind must be one of throttle, timeout, "
        "crash, oom, latency, got 'explode'",
    ]
    found = problems_of(tmp_path, """
        scenario: faults
        steps:
          - post: {json: {}}
            faults: {target: s3}
        """)
    assert found == ["s.yaml:4: steps[0].faults: expected a list of fault rules (mappings), "
                     "got a mapping"]


def test_fault_rules_are_in_the_model(tmp_path):
    scenario = load_scenario(write(tmp_path, """
        scenario: faults
        faults: [{target: lambda, kind: throttle, times: 1}]
        steps:
          - post: {json: {}}
            faults: [{target: s3, kind: latency, latency_ms: 5}]
        """))
    assert scenario.faults == ({"target": "lambda", "kind": "throttle", "times": 1},)
    assert scenario.steps[0].faults == ({"target": "s3", "kind": "latency", "latency_ms": 5},)


def test_advance_clock_takes_seconds_or_a_bare_number(tmp_path):
    scenario = load_scenario(write(tmp_path, """
        scenario: clock
        steps:
          - advance_clock: 3600
          - id: later
            advance_clock: {seconds: 0.5}
          - advance_clock: "${steps.later.seconds}"
        """))
    assert [(step.kind, step.params) for step in scenario.steps] == [
        ("advance_clock", {"seconds": 3600}), ("advance_clock", {"seconds": 0.5}),
        ("advance_clock", {"seconds": "${steps.later.seconds}"})]


def test_a_bad_advance_clock_is_refused_with_its_line(tmp_path):
    found = problems_of(tmp_path, """
        scenario: clock
        steps:
          - advance_clock: -5
          - advance_clock: soon
          - advance_clock: {second: 60}
          - advance_clock:
          - advance_clock: 60
            expect: {status: 200}
        """)
    assert found == [
        "s.yaml:3: steps[0].advance_clock.seconds: must be at least 0, got -5",
        "s.yaml:4: steps[1].advance_clock.seconds: expected a number of seconds, got a string "
        "('soon')",
        "s.yaml:5: steps[2].advance_clock.second: unknown key (did you mean 'seconds'?) "
        "(allowed here: seconds)",
        "s.yaml:5: steps[2].advance_clock: missing required key 'seconds'",
        "s.yaml:6: steps[3].advance_clock: missing required key 'seconds'",
        "s.yaml:8: steps[4].expect: an advance_clock step takes no expect",
    ]
