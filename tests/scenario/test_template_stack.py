"""Scenario files against the user's own template: ``stack: {template: ...}`` deploys it, steps
name its logical ids, ``${stack.outputs.X}`` reads its outputs; mistakes are found before
anything starts, one line each naming the problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.scenario.loader import load_scenario
from harness.scenario.properties import PropertyOptions
from harness.scenario.runner import ERROR, PASSED, ScenarioRunner
from harness.scenario.template_stack import execute_api_url, reachable

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "sam-app" / "template.yaml"


@pytest.fixture(scope="module")
def runner(harness_scenario_session):
    return ScenarioRunner(harness_scenario_session, options=PropertyOptions(ci=True))


def scenario_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(f"scenario: mine\nstack:\n  template: {APP}\n{body}")
    return path


def run_errors(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["run", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("harness run: error: ")
    return [lines[0].removeprefix("harness run: error: "), *lines[1:]]


def test_outputs_and_physical_names_resolve_on_the_deployed_stack(runner, tmp_path):
    path = scenario_file(tmp_path, """\
  parameters: {Threshold: 100}
steps:
  - id: direct
    invoke: {function: "${stack.outputs.PredictFunctionName}", event: {rows: [[60, 50]]}}
    expect: {status: 200, json: [{path: threshold, equals: 100}, {path: predictions, equals: [1]}]}
  - post: {api: ServerlessHttpApi, path: /predict, json: {rows: [[1]]}}
    expect: {status: 200, json: [{path: predictions, equals: [0]}]}
  - invoke: {function: NoSuchFunction}
""")
    # The last step's id is checked before the run; here it is a reference the loader cannot
    # see through, so it reaches the stack and is an error naming the functions that exist.
    path.write_text(path.read_text().replace("{function: NoSuchFunction}",
                                             '{function: "${vars.other}"}')
                    + "vars: {other: NoSuchFunction}\n")

    result = runner.run(load_scenario(path))

    assert [step.outcome for step in result.steps] == [PASSED, PASSED, ERROR]
    assert result.steps[0].output["function"].startswith("harness-scn-")
    assert result.steps[2].failures == (
        "no function 'NoSuchFunction' in stack "
        f"{runner.session.template_of(load_scenario(path).stack).name} "
        "(its functions: PredictFunction)",)


def test_unknown_logical_ids_and_outputs_are_named_before_anything_starts(tmp_path, capsys):
    path = scenario_file(tmp_path, """\
steps:
  - invoke: {function: PredictFuncton}
  - post: {api: ServerlesRestApi, path: /predict}
  - post: {url: "${stack.outputs.PredictAPI}"}
  - post: {route: predict}
""")
    assert run_errors(path, capsys) == [
        f"{path}:5: steps[0].invoke.function: no function 'PredictFuncton' in the template "
        "(did you mean 'PredictFunction'?) (its functions: PredictFunction)",
        f"{path}:6: steps[1].post.api: no api 'ServerlesRestApi' in the template (did you mean "
        "'ServerlessRestApi'?) (its APIs: ServerlessHttpApi, ServerlessRestApi)",
        f"{path}:7: steps[2]: ${{stack.outputs.PredictAPI}}: the template has no such output "
        "(its outputs: PredictApi, PredictFunctionName)",
        f"{path}:8: steps[3].post.route: a template's stack: give api and path, not route"]


def test_a_missing_template_and_a_bad_parameter_are_one_line_each(tmp_path, capsys):
    path = scenario_file(tmp_path, "  parameters: {Treshold: 1}\n  memory_mb: 256\n"
                                   "steps: [{invoke: {}}]\n")
    assert run_errors(path, capsys) == [
        f"{path}:4: stack.parameters.Treshold: the template has no parameter 'Treshold' "
        "(did you mean 'Threshold'?) (its parameters: Threshold)",
        f"{path}:5: stack.memory_mb: applies to the example stack, not to a template's stack"]

    path.write_text("scenario: mine\nstack: {template: nowhere/template.yaml}\n"
                    "steps: [{invoke: {}}]\n")
    assert run_errors(path, capsys) == [
        f"{path}:2: stack.template: cannot read template {tmp_path}/nowhere/template.yaml: "
        "No such file or directory"]


def test_a_template_that_does_not_deploy_fails_the_scenario_in_one_line(runner, tmp_path):
    broken = tmp_path / "broken" / "template.yaml"
    broken.parent.mkdir()
    broken.write_text("Resources:\n  Odd: {Type: AWS::Nowhere::Thing}\n")
    path = tmp_path / "broken.yaml"
    path.write_text(f"scenario: broken\nstack: {{template: {broken}, name: broken-app}}\n"
                    "steps: [{invoke: {event: {}}}]\n")

    result = runner.run(load_scenario(path))

    assert result.error is not None
    assert result.error.startswith("the stack did not deploy: stack broken-app: "
                                   "ROLLBACK_COMPLETE: Odd: Resource type AWS::Nowhere::Thing")
    assert "\n" not in result.error


def test_execute_api_urls_for_aws_and_for_the_emulator():
    assert execute_api_url("https://apigateway.eu-west-2.amazonaws.com", "abc", "Prod",
                           "eu-west-2", "/predict") == (
        "https://abc.execute-api.eu-west-2.amazonaws.com/Prod/predict")
    assert execute_api_url("http://127.0.0.1:4566", "abc", "$default", "eu-west-2",
                           "x") == "http://127.0.0.1:4566/_aws/execute-api/abc/x"
    assert reachable("https://abc.execute-api.eu-west-2.amazonaws.com/Prod/p", "http://h:1") == (
        "http://h:1/_aws/execute-api/abc/Prod/p")
    assert reachable("plain-name", "http://h:1") == "plain-name"


def test_harness_run_passes_the_shipped_sam_app_scenario(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "scenarios/sam_app.yaml", "--json",
         str(tmp_path / "results.json")], cwd=ROOT, capture_output=True, text=True,
        timeout=600, check=False)

    assert done.returncode == 0, done.stderr
    [scenario] = json.loads((tmp_path / "results.json").read_text())["scenarios"]
    assert scenario["passed"] and len(scenario["steps"]) == 5


def test_target_aws_shows_the_template_in_the_plan_then_runs_it(tmp_path, harness_endpoint):
    # The AWS code path offline: AWS_ENDPOINT_URL at the session's emulator.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HARNESS_"))}
    env.update(HARNESS_STATE_DIR=str(tmp_path / "state"), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-west-2",
               AWS_ENDPOINT_URL=harness_endpoint)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harness.cli.main", "run", "--target", "aws",
                               *args, "scenarios/sam_app.yaml"], cwd=ROOT, env=env, text=True,
                              capture_output=True, timeout=600, stdin=subprocess.DEVNULL,
                              check=False)

    refused = run()
    assert refused.returncode == 2, refused.stderr
    assert f"create or update a stack from {APP}  [eu-west-2]" in refused.stderr
    assert "run on real AWS needs a confirmation" in refused.stderr

    done = run("--yes")
    assert done.returncode == 0, done.stdout + done.stderr
