"""The pytest plugin in a fresh project that only installs the package (pytester, run in a
subprocess so that it loads the plugin through its entry point, as a user's pytest does)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

FRESH_TESTS = '''
import io

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st


def npy(rows):
    buffer = io.BytesIO()
    np.save(buffer, np.array([[5.1, 3.5, 1.4, 0.2]] * rows))
    return buffer.getvalue()


def keys(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_fixtures_reach_the_deployed_stack(harness_stack, harness_client, harness_http,
                                           harness_invocations, harness_reset):
    s3 = harness_client("s3", region_name=harness_stack.region)
    s3.put_object(Bucket=harness_stack.bucket, Key="left-behind.npy", Body=npy(2))
    status, body = harness_http.post_json(
        harness_stack.invoke_url, {"bucket": harness_stack.bucket, "key": "left-behind.npy"})
    assert status == 200 and len(body["predictions"]) == 2
    [record] = harness_invocations.records(harness_stack.function_name)
    assert record.report.memory_size_mb == 256  # the overridden config fixture
    assert any(line.startswith("REPORT RequestId:") for line in record.log_lines)


def test_each_test_starts_from_a_reset_stack(harness_stack, harness_client, harness_reset,
                                             harness_invocations):
    s3 = harness_client("s3", region_name=harness_stack.region)
    assert keys(s3, harness_stack.bucket) == []
    assert harness_invocations.records() == []


@settings(max_examples=4, deadline=None, database=None)
@given(rows=st.integers(1, 3))
def test_reset_between_hypothesis_examples(harness_stack, harness_client, harness_http,
                                           harness_stack_reset, rows):
    harness_stack_reset()
    s3 = harness_client("s3", region_name=harness_stack.region)
    s3.put_object(Bucket=harness_stack.bucket, Key=f"rows-{rows}.npy", Body=npy(rows))
    assert keys(s3, harness_stack.bucket) == [f"rows-{rows}.npy"]
    status, body = harness_http.post_json(
        harness_stack.invoke_url, {"bucket": harness_stack.bucket, "key": f"rows-{rows}.npy"})
    assert status == 200 and len(body["predictions"]) == rows


@pytest.mark.requires_aws
def test_against_real_aws():
    raise AssertionError("must be skipped without credentials")
'''

FRESH_CONFTEST = '''
import pytest


@pytest.fixture(scope="session")
def harness_memory_mb():
    return 256
'''

MINI_SCENARIO = '''
scenario: mini loop
steps:
  - id: features
    upload: {key: m.csv, data: {rows: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}}
  - post: {json: {bucket: "${stack.bucket}", key: "${steps.features.key}"}}
    expect: {status: 200, predictions: {count: "${steps.features.rows}", among: [0, 1, 2]}}
'''

FAILING_SCENARIO = '''
scenario: expects the wrong status
steps:
  - post: {json: {bucket: "${stack.bucket}", key: absent.npy}}
    expect: {status: 200}
'''


@pytest.fixture
def fresh_env(monkeypatch, tmp_path):
    """No AWS credentials anywhere, and no endpoint inherited from the outer run."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "HARNESS_ENDPOINT_URL", "HARNESS_TARGET", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path / "state"))


def test_fixtures_and_scenario_files_work_in_a_fresh_project(pytester, fresh_env):
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\n")
    pytester.makepyfile(test_fresh=FRESH_TESTS)
    pytester.makeconftest(FRESH_CONFTEST)
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "mini.yaml").write_text(MINI_SCENARIO)
    (pytester.path / "scenarios" / "wrong.yaml").write_text(FAILING_SCENARIO)
    (pytester.path / "settings.yaml").write_text("steps_per_day: 3\nname: not a scenario\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", timeout=300)
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*scenarios/wrong.yaml:4: step 1 post: status: expected 200, got 404 *NoSuchKey*",
        "*SKIPPED*needs AWS credentials: none found*",
    ])
    assert "settings.yaml" not in result.stdout.str()


def test_a_broken_scenario_file_is_a_collection_error_with_file_and_line(pytester, fresh_env):
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\n")
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "typo.yaml").write_text(
        "scenario: typo\nsteps:\n  - uplaod: {key: x.npy}\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*scenarios/typo.yaml:3: steps[[]0[]].uplaod: unknown step 'uplaod' "
        "(did you mean 'upload'?)*"])


def test_an_unsupported_target_is_a_usage_error(pytester, fresh_env):
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "--harness-target", "aws")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-target: target 'aws' is not supported yet*"])


def test_the_options_and_markers_are_registered(pytester, fresh_env):
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--help")
    result.stdout.fnmatch_lines(["*--harness-target*", "*--harness-endpoint*",
                                 "*--harness-ci*", "*--harness-scenarios=PATH*",
                                 "*harness_scenarios (paths):*"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--markers")
    result.stdout.fnmatch_lines(["*requires_docker*", "*requires_aws*"])


# -- which YAML files are scenarios: only where the project says -----------------------------------

def _yaml_project(pytester) -> None:
    """Scenario-shaped YAML in several places, and a plain test."""
    pytester.makepyfile(test_plain="def test_plain(): pass\n")
    for where in ("scenarios", "checks", "deploy", "checks/nested"):
        pytester.mkdir(where)
    (pytester.path / "scenarios" / "a.yaml").write_text(MINI_SCENARIO)
    (pytester.path / "checks" / "b.yml").write_text(MINI_SCENARIO)
    (pytester.path / "checks" / "nested" / "c.yaml").write_text(MINI_SCENARIO)
    # Someone else's YAML that happens to have top-level steps: (a CI pipeline, say).
    (pytester.path / "deploy" / "pipeline.yaml").write_text("steps:\n  - run: make\n")
    (pytester.path / "top.yaml").write_text("scenario: at the top\nsteps: []\n")


def _collected(pytester, *args: str) -> set[str]:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q",
                                           *args)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), \
        result.stdout.str() + result.stderr.str()
    return {line.split("::")[0] for line in result.stdout.lines if "::" in line}


def test_without_configuration_no_yaml_file_is_collected(pytester, fresh_env):
    _yaml_project(pytester)
    assert _collected(pytester) == {"test_plain.py"}
    assert _collected(pytester, "scenarios") == set()


def test_the_ini_option_names_the_scenario_files(pytester, fresh_env):
    _yaml_project(pytester)
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\nharness_scenarios = ["checks", "scenarios/*.yaml"]\n')
    assert _collected(pytester) == {"test_plain.py", "scenarios/a.yaml", "checks/b.yml",
                                    "checks/nested/c.yaml"}
    # Given paths still narrow what is collected, as for Python tests.
    assert _collected(pytester, "scenarios") == {"scenarios/a.yaml"}


def test_the_command_line_option_names_scenario_files_too(pytester, fresh_env):
    _yaml_project(pytester)
    pytester.makeini("[pytest]\nharness_scenarios = scenarios\n")
    assert _collected(pytester, "--harness-scenarios", "top.yaml",
                      "--harness-scenarios", "checks/nested") == {
        "test_plain.py", "scenarios/a.yaml", "top.yaml", "checks/nested/c.yaml"}


@pytest.mark.parametrize("how", ["ini", "option"])
def test_a_scenario_path_that_matches_nothing_is_a_usage_error(pytester, fresh_env, how):
    pytester.makepyfile(test_plain="def test_plain(): pass\n")
    if how == "ini":
        pytester.makeini("[pytest]\nharness_scenarios = scenaros\n")
        args: tuple[str, ...] = ()
    else:
        args = ("--harness-scenarios", "nowhere/*.yaml")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    where, what = ("harness_scenarios", "scenaros") if how == "ini" else \
        ("--harness-scenarios", "nowhere/[*].yaml")
    result.stderr.fnmatch_lines([f"*{where}: *{what} matches no file or directory*"])
