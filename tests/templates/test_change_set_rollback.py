"""A failing UPDATE through a change set (CreateChangeSet, then ExecuteChangeSet, as ``sam deploy``
and ``aws cloudformation deploy`` update a stack) rolls back as UpdateStack does: the previous
resources and properties back, UPDATE_ROLLBACK_COMPLETE, the reason in the events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_cli_deploy import PARAMETERISED, aws_cli
from tests.templates.test_stacks import get, outputs_of, stack_name, status_of

HANDLER = "import os\ndef handler(event, context):\n    return os.environ['GREETING']\n"
MISSING_LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:no-such-layer:1"


def two_functions(greeting: str, second_layers: list[str] | None = None,
                  extra: dict[str, Any] | None = None) -> str:
    """A role and two functions; the first's description and greeting come from ``greeting``."""
    def function(description: str, layers: list[str] | None) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "Runtime": LOCAL_RUNTIME, "Handler": "index.handler", "Description": description,
            "Code": {"ZipFile": HANDLER}, "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Environment": {"Variables": {"GREETING": greeting}}}
        if layers is not None:
            properties["Layers"] = layers
        return {"Type": "AWS::Lambda::Function", "Properties": properties}

    resources: dict[str, Any] = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}}},
        "First": function(f"first {greeting}", None),
        "Second": function("second", second_layers),
        **(extra or {}),
    }
    return json.dumps({"Resources": resources,
                       "Outputs": {"Greeting": {"Value": greeting}}})


def execute(cfn: Any, name: str, template: str, kind: str) -> dict[str, Any]:
    """CreateChangeSet (waited for), then ExecuteChangeSet; the change set as described."""
    made = cfn.create_change_set(StackName=name, ChangeSetName=f"{kind.lower()}-{name}",
                                 ChangeSetType=kind, TemplateBody=template)
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=made["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    cfn.execute_change_set(ChangeSetName=made["Id"])
    return dict(cfn.describe_change_set(ChangeSetName=made["Id"]))


def resources_of(cfn: Any, name: str) -> dict[str, str]:
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}


def invoke(harness_client: Any, function: str) -> Any:
    answer = harness_client("lambda").invoke(FunctionName=function, Payload=b"{}")
    assert "FunctionError" not in answer
    return json.loads(answer["Payload"].read())


def test_failed_update_change_set_restores_resources_and_properties(
        harness_client: Any) -> None:
    cfn, lam = harness_client("cloudformation"), harness_client("lambda")
    name = stack_name()
    assert execute(cfn, name, two_functions("v1"), "CREATE")["ExecutionStatus"] == (
        "EXECUTE_COMPLETE")
    before = resources_of(cfn, name)
    assert invoke(harness_client, before["First"]) == "v1"

    # First is updated (description, environment), a bucket is added, then Second fails.
    broken = two_functions("v2", [MISSING_LAYER], {"Extra": {"Type": "AWS::S3::Bucket"}})
    change_set = execute(cfn, name, broken, "UPDATE")

    assert change_set["ExecutionStatus"] == "EXECUTE_FAILED"
    assert status_of(cfn, name) == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]  # newest first
    assert [e["ResourceStatus"] for e in events[:3]] == [
        "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_FAILED"]
    assert events[2]["LogicalResourceId"] == "Second"
    assert f"Layer version {MISSING_LAYER} does not exist." in events[2]["ResourceStatusReason"]
    assert "InvalidParameterValueException" in events[2]["ResourceStatusReason"]
    assert events[1]["ResourceStatusReason"].startswith(
        "The following resource(s) failed to update: [Second]")

    assert resources_of(cfn, name) == before
    first = lam.get_function_configuration(FunctionName=before["First"])
    assert (first["Description"], first["Environment"]["Variables"]) == (
        "first v1", {"GREETING": "v1"})
    assert lam.get_function_configuration(FunctionName=before["Second"]).get("Layers", []) == []
    assert invoke(harness_client, before["First"]) == "v1"
    buckets = {b["Name"] for b in harness_client("s3").list_buckets()["Buckets"]}
    assert not [b for b in buckets if b.startswith(f"{name}-extra-")]
    assert outputs_of(cfn, name) == {"Greeting": "v1"}
    # boto3 hands a JSON template back parsed.
    assert cfn.get_template(StackName=name)["TemplateBody"] == json.loads(two_functions("v1"))

    # The rolled-back stack takes the next update.
    assert execute(cfn, name, two_functions("v3"), "UPDATE")["ExecutionStatus"] == (
        "EXECUTE_COMPLETE")
    assert status_of(cfn, name) == "UPDATE_COMPLETE"
    assert invoke(harness_client, before["First"]) == "v3"
    cfn.delete_stack(StackName=name)


def test_change_set_cannot_be_executed_twice(harness_client: Any) -> None:
    cfn = harness_client("cloudformation")
    name = stack_name()
    change_set = execute(cfn, name, two_functions("v1"), "CREATE")
    with pytest.raises(ClientError) as caught:
        cfn.execute_change_set(ChangeSetName=change_set["ChangeSetId"])
    assert caught.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    assert "EXECUTE_COMPLETE" in caught.value.response["Error"]["Message"]
    cfn.delete_stack(StackName=name)


@pytest.mark.parametrize("through", ["change set", "UpdateStack"])
def test_update_adding_a_type_the_harness_cannot_make_rolls_back_naming_it(
        harness_client: Any, through: str) -> None:
    cfn = harness_client("cloudformation")
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=two_functions("v1"))
    before = resources_of(cfn, name)
    template = two_functions("v2", extra={"Thing": {"Type": "AWS::Nowhere::Thing"}})

    if through == "change set":
        assert execute(cfn, name, template, "UPDATE")["ExecutionStatus"] == "EXECUTE_FAILED"
    else:
        cfn.update_stack(StackName=name, TemplateBody=template)

    assert status_of(cfn, name) == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    assert [(e["LogicalResourceId"], e["ResourceStatus"]) for e in failed] == [
        ("Thing", "CREATE_FAILED")]
    assert "AWS::Nowhere::Thing" in failed[0]["ResourceStatusReason"]
    assert resources_of(cfn, name) == before
    description = harness_client("lambda").get_function_configuration(
        FunctionName=before["First"])["Description"]
    assert description == "first v1"
    cfn.delete_stack(StackName=name)


def test_aws_cloudformation_deploy_of_a_failing_update_rolls_back(
        tmp_path: Path, harness_endpoint: str, harness_client: Any) -> None:
    cfn = harness_client("cloudformation")
    name = f"cli-{stack_name()}"
    template = tmp_path / "template.yaml"
    template.write_text(PARAMETERISED)
    deploy = ("cloudformation", "deploy", "--template-file", str(template), "--stack-name",
              name, "--capabilities", "CAPABILITY_IAM")
    done = aws_cli(harness_endpoint, *deploy)
    assert done.returncode == 0, done.stderr
    api_id = outputs_of(cfn, name)["HelloUrl"].split("//")[1].split(".")[0]

    # A new greeting, and a layer that does not exist: Lambda refuses the function's update.
    template.write_text(PARAMETERISED.replace(
        "      Events:", f"      Layers: [{MISSING_LAYER}]\n      Events:", 1))
    done = aws_cli(harness_endpoint, *deploy, "--parameter-overrides", "Greeting=second")

    assert done.returncode != 0
    assert "Failed to create/update the stack" in done.stderr, done.stderr
    assert status_of(cfn, name) == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason") or "" for e in
               cfn.describe_stack_events(StackName=name)["StackEvents"]
               if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert len(reasons) == 1 and f"Layer version {MISSING_LAYER} does not exist." in reasons[0]
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/hello/cli")
    assert (status, json.loads(body)["greeting"]) == (200, "first")
    cfn.delete_stack(StackName=name)
