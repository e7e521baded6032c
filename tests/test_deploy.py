"""The example stack is ``lambda_fn/template.yaml``: the template is valid SAM, the deploy makes a
CloudFormation stack of it (on the session emulator, through the template deployer), repeated
deploys update it or change nothing, and what the stack cannot make is refused clearly."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.apigw.urls import reachable
from harness.aws_target import destroy, plan, template_resources
from harness.deploy import (
    EXAMPLE_TEMPLATE,
    StackSpec,
    Target,
    check_spec,
    deploy,
    example_template,
    stack_name_of,
    stack_parameters,
)
from harness.errors import DeployError
from harness.scenario.model import StackRequest
from harness.scenario.session import ScenarioSession
from harness.templates.errors import TemplateError
from harness.templates.parameters import check_parameters
from harness.templates.parse import parse_template
from harness.templates.sam import sam_transform

REGION = "eu-west-2"
READ_LOGS = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}


def _template() -> dict[str, Any]:
    return parse_template(EXAMPLE_TEMPLATE.read_text(encoding="utf-8"))


def _packaged() -> dict[str, Any]:
    """The template as ``sam package`` leaves it: the local CodeUri replaced by an S3 location
    (what ``sam validate`` also does before it runs the translator)."""
    template = _template()
    template["Resources"]["PredictFunction"]["Properties"]["CodeUri"] = "s3://artifacts/code.zip"
    return template


def _translated(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    return sam_transform(_packaged(), parameters or {}, region=REGION,
                         account_id="123456789012", stack_name="harness-predict")


# -- the template, without an endpoint ---------------------------------------------------------

def test_the_template_is_valid_for_the_sam_translator_and_makes_the_example_stack():
    resources = _translated()["Resources"]
    kinds = sorted(resource["Type"] for resource in resources.values())
    assert kinds == ["AWS::ApiGateway::Deployment", "AWS::ApiGateway::RestApi",
                     "AWS::ApiGateway::Stage", "AWS::IAM::Role", "AWS::Lambda::Function",
                     "AWS::Lambda::Permission", "AWS::Lambda::Permission", "AWS::S3::Bucket"]
    assert resources["UploadPermission"]["Properties"]["Principal"] == "s3.amazonaws.com"
    function = resources["PredictFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["PredictRole", "Arn"]}
    assert function["Code"] == {"S3Bucket": "artifacts", "S3Key": "code.zip"}
    body = resources["PredictApi"]["Properties"]["Body"]
    integration = body["paths"]["/predict"]["post"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    assert resources["PredictApiStage"]["Properties"]["StageName"] == {"Ref": "StageName"}
    deployments = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Deployment"]
    assert "StageName" not in deployments[0]["Properties"], "no extra stage named 'Stage'"


def test_the_templates_defaults_are_the_specs_so_sam_deploy_and_harness_deploy_agree():
    declared = _template()["Parameters"]
    defaults = {name: str(spec.get("Default")) for name, spec in declared.items()}
    given = stack_parameters(StackSpec(), create_bucket=True)
    assert set(given) <= set(declared)
    assert {k: v for k, v in given.items() if k != "RoleName"} == {
        k: defaults[k] for k in given if k != "RoleName"}
    assert given["RoleName"] == "harness-predict-role"  # the template's empty default says so


def test_the_specs_parameters_pass_the_templates_constraints_and_bad_ones_do_not():
    declared = _template()["Parameters"]
    check_parameters(declared, stack_parameters(StackSpec(allow_pickle_features=True,
                                                          memory_mb=10240), create_bucket=False))
    too_small = stack_parameters(StackSpec(memory_mb=64), create_bucket=True)
    with pytest.raises(TemplateError, match="'MemorySize' must be a number not less than 128"):
        check_parameters(declared, too_small)


def test_an_image_replaces_the_code_handler_and_runtime_and_keeps_the_rest():
    template = example_template(StackSpec(image_uri="harness/ml-fn:latest"), None,
                                {"EXTRA": "1"})
    function = template["Resources"]["PredictFunction"]["Properties"]
    assert function["PackageType"] == "Image" and function["ImageUri"] == "harness/ml-fn:latest"
    assert not {"CodeUri", "Handler", "Runtime"} & set(function)
    assert set(function["Environment"]["Variables"]) == {
        "ALLOWED_BUCKETS", "ALLOW_PICKLE_FEATURES", "EXTRA"}
    made = sam_transform(template, {}, region=REGION, account_id="123456789012")
    assert made["Resources"]["PredictFunction"]["Properties"]["Code"] == {
        "ImageUri": "harness/ml-fn:latest"}


def test_what_the_template_cannot_express_is_refused_before_anything_is_made():
    with pytest.raises(DeployError, match="serves POST /predict, not /score"):
        check_spec(StackSpec(route="score"))
    with pytest.raises(DeployError, match="longer than IAM's 64 characters"):
        check_spec(StackSpec(function_name="f" * 60))


def test_stack_names_follow_the_function_in_cloudformations_alphabet():
    assert stack_name_of(StackSpec()) == "harness-predict"
    assert stack_name_of(StackSpec(function_name="my_fn")) == "my-fn"
    assert stack_name_of(StackSpec(function_name="9lives")) == "harness-9lives"
    assert stack_name_of(StackSpec(stack_name="given")) == "given"


# -- deployed on the session emulator -----------------------------------------------------------

@pytest.fixture
def client(harness_client):
    def make(service: str) -> Any:
        return harness_client(service, region_name=REGION)

    return make


def _resources(client, name: str) -> dict[str, tuple[str, str]]:
    listed = client("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: (r["ResourceType"], r["PhysicalResourceId"]) for r in listed}


def _no_stack(client, name: str) -> bool:
    try:
        stacks = client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        return "does not exist" in str(error)
    return stacks[0]["StackStatus"] == "DELETE_COMPLETE"


def test_the_example_stack_is_the_templates_cloudformation_stack(harness_stack, harness_package,
                                                                 harness_endpoint, client):
    stack = client("cloudformation").describe_stacks(StackName=harness_stack.stack_name)
    described = stack["Stacks"][0]
    assert described["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    resources = _resources(client, harness_stack.stack_name)
    # The output is the URL of the stack's own API, in the form the harness serves (the session's
    # cached Stack may predate another test's update of the same stack, so it is not compared).
    url = reachable(outputs["InvokeUrl"], harness_endpoint)
    assert url == (f"{harness_endpoint}/_aws/execute-api/{resources['PredictApi'][1]}/"
                   f"{harness_stack.stage}/predict")
    assert set(resources) == set(template_resources(StackSpec()))
    assert resources["DataBucket"] == ("AWS::S3::Bucket", harness_stack.bucket)
    assert resources["PredictFunction"] == ("AWS::Lambda::Function", harness_stack.function_name)
    assert resources["PredictApi"] == ("AWS::ApiGateway::RestApi", harness_stack.api_id)
    assert resources["PredictApiStage"][1] == harness_stack.stage == "dev"
    # What runs is the package harness/package.py built, uploaded as sam deploy uploads it.
    config = client("lambda").get_function_configuration(FunctionName=harness_stack.function_name)
    assert config["CodeSha256"] == base64.b64encode(
        hashlib.sha256(harness_package.zip_bytes).digest()).decode()
    assert config["Role"].endswith(":role/harness-predict-role")
    keys = [o["Key"] for o in client("s3").list_objects_v2(
        Bucket="harness-artifacts-123456789012-eu-west-2", Prefix="harness-predict/")["Contents"]]
    assert keys == [f"harness-predict/{harness_package.sha256}.zip"]


def test_deploys_update_the_stack_then_change_nothing_and_destroy_removes_it(
        harness_endpoint, harness_package, client):
    target = Target(endpoint_url=harness_endpoint)
    spec = StackSpec(function_name="tpl-update", api_name="tpl-update-api", bucket="tpl-update")
    first = deploy(target, spec, harness_package)
    changed = StackSpec(**{**spec.__dict__, "memory_mb": 256, "allow_pickle_features": True})
    second = deploy(target, changed, harness_package)
    config = client("lambda").get_function_configuration(FunctionName="tpl-update")
    assert config["MemorySize"] == 256
    assert config["Environment"]["Variables"]["ALLOW_PICKLE_FEATURES"] == "1"
    cfn = client("cloudformation")
    updated = cfn.describe_stacks(StackName="tpl-update")["Stacks"][0]
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    said: list[str] = []
    third = deploy(target, changed, harness_package, progress=said.append)
    assert "stack tpl-update: no changes" in said
    assert cfn.describe_stacks(StackName="tpl-update")["Stacks"][0].get(
        "LastUpdatedTime") == updated.get("LastUpdatedTime")
    assert first.api_id == second.api_id == third.api_id
    assert first.invoke_url == third.invoke_url

    client("s3").put_object(Bucket="tpl-update", Key="features.npy", Body=b"x")
    removed = destroy(target, changed)
    assert removed[:1] == ["CloudFormation stack tpl-update"]
    assert {"S3 bucket tpl-update", "Lambda function tpl-update", "IAM role tpl-update-role",
            "REST API tpl-update-api", "package s3://harness-artifacts-123456789012-eu-west-2/"
            "tpl-update/"} <= set(removed)
    assert _no_stack(client, "tpl-update")
    assert destroy(target, changed) == [], "a second destroy finds nothing"


def test_a_bucket_that_exists_is_used_as_it_is_outside_the_stack(harness_endpoint,
                                                                  harness_package, client):
    s3 = client("s3")
    s3.create_bucket(Bucket="tpl-existing", CreateBucketConfiguration={
        "LocationConstraint": REGION})
    s3.put_object(Bucket="tpl-existing", Key="kept.npy", Body=b"data")
    target = Target(endpoint_url=harness_endpoint)
    spec = StackSpec(function_name="tpl-existing", api_name="tpl-existing-api",
                     bucket="tpl-existing")
    assert ("use", "tpl-existing") in [(i.action, i.name) for i in plan(target, spec)]
    stack = deploy(target, spec, harness_package)
    assert "DataBucket" not in _resources(client, stack.stack_name)
    assert stack.bucket == "tpl-existing"
    assert s3.get_object(Bucket="tpl-existing", Key="kept.npy")["Body"].read() == b"data"
    destroy(target, spec)


def test_a_role_made_outside_the_stack_fails_the_deploy_naming_it_and_leaves_nothing(
        harness_endpoint, harness_package, client):
    client("iam").create_role(RoleName="tpl-conflict-role", AssumeRolePolicyDocument="{}")
    target = Target(endpoint_url=harness_endpoint)
    spec = StackSpec(function_name="tpl-conflict", api_name="tpl-conflict-api",
                     bucket="tpl-conflict")
    assert ("exists", "tpl-conflict-role") in [(i.action, i.name) for i in plan(target, spec)]
    with pytest.raises(DeployError) as caught:
        deploy(target, spec, harness_package)
    assert "stack tpl-conflict: ROLLBACK_COMPLETE: PredictRole:" in caught.value.message
    assert "tpl-conflict-role" in caught.value.message
    functions = [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]
    assert "tpl-conflict" not in functions
    assert "tpl-conflict" not in [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    client("iam").delete_role(RoleName="tpl-conflict-role")
    client("cloudformation").delete_stack(StackName="tpl-conflict")


def test_a_scenario_deploys_the_template_with_names_of_its_own(harness_endpoint,
                                                               harness_build_dir, client):
    session = ScenarioSession(harness_endpoint, harness_build_dir)
    stack = session.stack_for(StackRequest(memory_mb=384, allowed_buckets=("other-data",)))
    assert stack.stack_name.startswith("harness-scn-")
    assert stack.function_name == stack.bucket == stack.stack_name
    resources = _resources(client, stack.stack_name)
    assert resources["PredictRole"][1] == f"{stack.function_name}-role"
    config = client("lambda").get_function_configuration(FunctionName=stack.function_name)
    assert config["MemorySize"] == 384
    assert config["Environment"]["Variables"]["ALLOWED_BUCKETS"] == f"{stack.bucket},other-data"
    assert stack.invoke_url == (f"{harness_endpoint}/_aws/execute-api/{stack.api_id}/dev/predict")
    destroy(Target(endpoint_url=harness_endpoint),
            StackSpec(function_name=stack.function_name, api_name=stack.function_name,
                      bucket=stack.bucket))


def test_an_image_deploys_the_same_template_as_an_image_function(harness_endpoint,
                                                                 harness_package, client):
    """Deployed only (running it needs a Docker engine: tests/container does)."""
    target = Target(endpoint_url=harness_endpoint)
    spec = StackSpec(function_name="tpl-image", api_name="tpl-image-api", bucket="tpl-image",
                     image_uri="harness/ml-fn:latest")
    said: list[str] = []
    stack = deploy(target, spec, harness_package, progress=said.append)
    assert "function tpl-image (image harness/ml-fn:latest)" in said
    lam = client("lambda")
    function = lam.get_function(FunctionName="tpl-image")
    assert function["Configuration"]["PackageType"] == "Image"
    assert function["Code"]["ImageUri"] == "harness/ml-fn:latest"
    assert _resources(client, stack.stack_name)["PredictFunction"][1] == "tpl-image"
    said.clear()
    deploy(target, spec, harness_package, progress=said.append)
    # The same tag again: the stack has no changes, and the image is updated all the same.
    assert "stack tpl-image: no changes" in said
    assert "function tpl-image: image harness/ml-fn:latest updated" in said
    assert lam.get_function(FunctionName="tpl-image")["Code"]["ImageUri"] == (
        "harness/ml-fn:latest")
    destroy(target, spec)


def test_destroy_removes_what_an_older_harness_made_without_a_stack(harness_endpoint, client,
                                                                    make_zip):
    """Before the template, the deploy made the API, function, role and bucket by name."""
    role = client("iam").create_role(RoleName="tpl-legacy-role", AssumeRolePolicyDocument="{}")
    client("iam").put_role_policy(RoleName="tpl-legacy-role", PolicyName="harness-predict",
                                  PolicyDocument=json.dumps({"Version": "2012-10-17",
                                                             "Statement": [READ_LOGS]}))
    client("lambda").create_function(
        FunctionName="tpl-legacy", Runtime="python3.12", Handler="app.handler",
        Role=role["Role"]["Arn"], Code={"ZipFile": make_zip({"app.py": "def handler(e, c): 1"})})
    client("apigateway").create_rest_api(name="tpl-legacy-api")
    client("s3").create_bucket(Bucket="tpl-legacy", CreateBucketConfiguration={
        "LocationConstraint": REGION})
    client("s3").put_object(Bucket="tpl-legacy", Key="f.npy", Body=b"x")
    spec = StackSpec(function_name="tpl-legacy", api_name="tpl-legacy-api", bucket="tpl-legacy")
    target = Target(endpoint_url=harness_endpoint)
    exists = {(i.kind, i.action) for i in plan(target, spec)}
    assert {("IAM role", "exists"), ("Lambda function", "exists"), ("S3 bucket", "use")} <= exists
    assert sorted(destroy(target, spec)) == [
        "IAM role tpl-legacy-role", "Lambda function tpl-legacy", "REST API tpl-legacy-api",
        "S3 bucket tpl-legacy"]
    assert {i.action for i in plan(target, spec)} == {"create"}
