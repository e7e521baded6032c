"""``harness_template_stack``: the user's template deployed once per session from the ini option
or the command line, in a fresh project (pytester in a subprocess, as a user's pytest runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.scenario.test_plugin import fresh_env

pytest_plugins = ["pytester"]
__all__ = ["fresh_env"]  # the fixture, imported so pytest finds it here

APP = Path(__file__).resolve().parents[2] / "examples" / "sam-app"

TESTS = '''
import json


def test_outputs_ids_and_the_api(harness_template_stack, harness_http, harness_client):
    stack = harness_template_stack
    assert stack.name == "harness-test-app"
    assert set(stack.outputs) == {"PredictApi", "PredictFunctionName"}
    assert stack.physical_ids["PredictFunction"] == stack.outputs["PredictFunctionName"]
    status, body = harness_http.post_json(stack.outputs["PredictApi"], {"rows": [[1, 1], [2, 2]]})
    assert (status, body) == (200, {"predictions": [0, 1], "threshold": 3.0})
    lam = harness_client("lambda", region_name=stack.region)
    answer = lam.invoke(FunctionName=stack.physical_ids["PredictFunction"],
                        Payload=b'{"rows": [[9]]}')
    result = json.loads(answer["Payload"].read())
    assert json.loads(result["body"])["predictions"] == [1]


def test_the_reset_leaves_it_deployed_once(harness_template_stack, harness_reset, harness_http,
                                            harness_client):
    stack = harness_template_stack
    status, body = harness_http.post_json(stack.outputs["PredictApi"], {"rows": [[0]]})
    assert (status, body["predictions"]) == (200, [0])
    cfn = harness_client("cloudformation", region_name=stack.region)
    events = cfn.describe_stack_events(StackName=stack.name)["StackEvents"]
    mine = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == stack.name]
    assert mine.count("CREATE_COMPLETE") == 1 and not any("UPDATE" in s for s in mine)
'''

USES_IT = "def test_x(harness_template_stack):\n    pass\n"


def app(pytester: pytest.Pytester) -> Path:
    shutil.copytree(APP, pytester.path / "app")
    return pytester.path / "app" / "template.yaml"


def test_the_ini_template_deploys_once_and_survives_the_reset(pytester, fresh_env):
    app(pytester)
    pytester.makeini("[pytest]\nharness_template = app/template.yaml\n"
                     "harness_template_parameters =\n    Threshold=3\n")
    pytester.makepyfile(test_app=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=2)


def test_bad_inputs_are_one_line_each(pytester, fresh_env):
    app(pytester)
    pytester.makepyfile(test_x=USES_IT)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--harness-template",
                                           "app/template.yaml", "--harness-template-parameter",
                                           "Treshold=1", timeout=300)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        f"*harness_template_stack: template {pytester.path}/app/template.yaml has no parameter "
        "'Treshold' (its parameters: Threshold)"])

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--harness-template",
                                           "nowhere.yaml", timeout=300)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*harness_template_stack: cannot read template "
                                 f"{pytester.path}/nowhere.yaml: No such file or directory"])

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--harness-template",
                                           "app/template.yaml", "--harness-template-parameter",
                                           "novalue", timeout=300)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-template-parameter must be KEY=VALUE, got 'novalue'"])

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*harness_template_stack needs a template: --harness-template "
                                 "PATH or the harness_template ini option"])
