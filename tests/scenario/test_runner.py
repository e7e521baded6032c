"""Scenarios run end to end on the session's emulator: the shipped ones, the seed's slip, a
function that crashes on NaN, and what is left behind (nothing)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.scenario.examples import FeaturesExample, example_from_json
from harness.scenario.loader import load_scenario
from harness.scenario.properties import PropertyOptions
from harness.scenario.runner import ERROR, FAILED, PASSED, SKIPPED, ScenarioRunner

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHIPPED = [path for path in sorted((ROOT / "scenarios").glob("*.yaml"))
           if load_scenario(path).runnable]


@pytest.fixture(scope="module")
def runner(harness_scenario_session):
    return ScenarioRunner(harness_scenario_session, options=PropertyOptions(ci=True))


def fixture(name: str):
    return load_scenario(FIXTURES / name, f"tests/scenario/fixtures/{name}")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_passes(runner, path):
    result = runner.run(load_scenario(path, f"scenarios/{path.name}"))
    assert result.passed, "\n".join(result.failure_lines())


def test_the_seed_slip_names_the_step_and_the_bucket(runner):
    result = runner.run(fixture("slip_unexpected.yaml"))
    assert not result.passed
    assert [step.outcome for step in result.steps] == [PASSED, FAILED, SKIPPED]
    assert result.failure_lines() == [
        "tests/scenario/fixtures/slip_unexpected.yaml:9: step 2 upload (upload to the misspelt "
        "bucket): S3 answered NoSuchBucket: The specified bucket does not exist (bucket "
        "'lh-lambda-buckets-202222' does not exist; did you mean 'lh-lambda-buckets-2022' "
        "(created by this scenario)?)"]


def test_files_conversions_and_failed_expectations(runner, harness_client):
    result = runner.run(fixture("files_and_misses.yaml"))
    outcomes = [step.outcome for step in result.steps]
    assert outcomes == [PASSED] * 8 + [FAILED, SKIPPED], result.failure_lines()
    assert result.steps[0].output["rows"] == 3 and result.steps[0].output["format"] == "csv"
    assert result.steps[1].output["rows"] == 2 and result.steps[1].output["format"] == "npy"
    failures = result.steps[8].failures
    assert failures[0].startswith('status: expected 404, got 200 {"predictions": [')
    assert failures[1] == "json rows: expected 2, got 3"
    assert re.fullmatch(r"latency [\d.]+ ms is over the bound of 0\.001 ms", failures[2])
    assert all(line.startswith("tests/scenario/fixtures/files_and_misses.yaml:29: step 9 post")
               for line in result.failure_lines())
    # What the scenario made is gone: its bucket, and the objects in the stack's bucket.
    s3 = harness_client("s3", region_name="eu-west-2")
    names = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    assert "harness-scenario-test-extra" not in names
    stack_bucket = result.steps[0].output["bucket"]
    assert s3.list_objects_v2(Bucket=stack_bucket).get("KeyCount", 0) == 0


def test_a_step_that_cannot_run_is_an_error_not_a_crash(runner, tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text("scenario: odd\nsteps:\n  - upload: {key: x.txt, data: {rows: [[1]]}}\n"
                    "  - invoke: {function: no-such-function}\n")
    result = runner.run(load_scenario(path, "odd.yaml"))
    assert [step.outcome for step in result.steps] == [ERROR, SKIPPED]
    assert result.steps[0].failures == (
        "cannot tell the format of 'x.txt' from its suffix; add format: (npy, csv, json, joblib)",)


def test_a_scenario_whose_requirements_are_missing_is_skipped(runner, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    path = tmp_path / "aws.yaml"
    path.write_text("scenario: real aws\nrequires: [aws]\nsteps:\n  - wait: {seconds: 0}\n")
    result = runner.run(load_scenario(path))
    assert result.passed and result.steps == ()
    assert result.skipped is not None
    assert result.skipped.startswith("needs AWS credentials: none found")


@pytest.fixture(scope="module")
def nan_failure(runner):
    result = runner.run(fixture("broken_nan.yaml"))
    assert not result.passed and result.properties is not None
    assert result.properties.failure is not None, result.failure_lines()
    return result


def test_a_function_that_crashes_on_nan_is_caught_with_its_shrunk_input(nan_failure):
    failure = nan_failure.properties.failure
    example = failure.example
    assert isinstance(example, FeaturesExample)
    assert example.shape == (1, 4)  # shrunk to one row
    assert not all(map(lambda v: abs(float(v)) < float("inf"), example.values))
    assert failure.problems == (
        'no input may give a 5xx: got 500 {"message": "internal error", "error": '
        '"InternalError"}',)
    lines = nan_failure.failure_lines()
    assert lines[0].startswith("tests/scenario/fixtures/broken_nan.yaml:7: property: failed "
                               "after ")
    assert lines[0].endswith("(seed 1)")
    assert lines[1].startswith("  falsifying example (shrunk): ")
    assert lines[-1] == "  reproduce: harness run tests/scenario/fixtures/broken_nan.yaml --seed 1"


def test_the_printed_command_reproduces_the_failure(nan_failure, harness_endpoint, capsys):
    replay = nan_failure.properties.failure.reproduce[0]
    words = shlex.split(replay)
    assert words[:2] == ["harness", "run"]
    capsys.readouterr()
    code = main([*words[1:], "--endpoint-url", harness_endpoint])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed after 1 example(s)" in out
    shown = example_from_json(json.loads(words[-1])).describe()
    assert f"falsifying example (shrunk): {shown}" in out


def test_fault_rules_are_removed_after_a_failing_scenario(runner, tmp_path, harness_endpoint):
    from harness.faults.client import FaultClient

    path = tmp_path / "faulty.yaml"
    path.write_text(
        "scenario: faulty\n"
        "faults: [{target: lambda, kind: throttle, function: '${stack.function_name}'}]\n"
        "steps:\n"
        "  - post: {json: {bucket: '${stack.bucket}', key: x.npy}}\n"
        "    faults: [{target: s3, kind: latency, latency_ms: 1}]\n"
        "    expect: {status: 200}\n")
    result = runner.run(load_scenario(path, "faulty.yaml"))
    assert not result.passed
    assert result.steps[0].failures[0].startswith("status: expected 200, got 500")
    assert FaultClient(harness_endpoint).report() == []
