"""Layers from a template, applied as Lambda applies them: in order, later layers over earlier
ones, the function's own code over both; a new layer version reaches new environments."""

from __future__ import annotations

import json
import sys
from typing import Any

from harness.lambda_.layers import layer_paths
from tests.conftest import LOCAL_RUNTIME
from tests.lambda_.test_code_limits import zeros_zip
from tests.templates.test_stacks import stack_name, status_of, zipped

SITE = f"python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"

HANDLER = '''
import json, only_first, shared, mine
def handler(event, context):
    return {"shared": shared.VALUE, "only_first": only_first.VALUE, "mine": mine.VALUE}
'''

TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Bucket: {{Type: String}}
  SecondKey: {{Type: String, Default: second.zip}}
Resources:
  First:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: {{Bucket: !Ref Bucket, Key: first.zip}}, RetentionPolicy: Delete,
                 CompatibleRuntimes: [{LOCAL_RUNTIME}]}}
  Second:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: {{Bucket: !Ref Bucket, Key: !Ref SecondKey}},
                 RetentionPolicy: Delete}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: app.handler
      CodeUri: {{Bucket: !Ref Bucket, Key: app.zip}}
      Layers: [!Ref First, !Ref Second]
Outputs:
  Function: {{Value: !Ref Fn}}
"""


def test_layer_paths_put_the_last_layer_first_and_python_dirs_for_the_runtime() -> None:
    paths = layer_paths(["/l/a", "/l/b"], "3.12.1")
    assert paths.python == ("/l/b/python/lib/python3.12/site-packages", "/l/b/python",
                            "/l/a/python/lib/python3.12/site-packages", "/l/a/python")
    assert paths.bin == ("/l/b/bin", "/l/a/bin") and paths.lib == ("/l/b/lib", "/l/a/lib")
    assert layer_paths([], "3.12") == layer_paths((), "3.11")


def invoke(harness_client: Any, function: str) -> dict[str, Any]:
    answer = harness_client("lambda").invoke(FunctionName=function, Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return dict(body)


def test_layers_apply_in_order_under_the_functions_own_code(harness_client: Any) -> None:
    s3, cfn = harness_client("s3"), harness_client("cloudformation")
    bucket = f"layers-{stack_name()}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="first.zip", Body=zipped({
        "python/shared.py": "VALUE = 'first'\n", "python/only_first.py": "VALUE = 'first'\n"}))
    s3.put_object(Bucket=bucket, Key="second.zip", Body=zipped({
        f"{SITE}/shared.py": "VALUE = 'second'\n", "python/mine.py": "VALUE = 'layer'\n"}))
    s3.put_object(Bucket=bucket, Key="app.zip",
                  Body=zipped({"app.py": HANDLER, "mine.py": "VALUE = 'function'\n"}))
    name = stack_name()

    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket}])

    assert status_of(cfn, name) == "CREATE_COMPLETE"
    outputs = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    function = outputs[0]["OutputValue"]
    config = harness_client("lambda").get_function_configuration(FunctionName=function)
    arns = [layer["Arn"] for layer in config["Layers"]]
    assert [arn.split(":")[-2] for arn in arns] == ["First", "Second"]  # SAM's LayerName
    assert invoke(harness_client, function) == {
        "shared": "second", "only_first": "first", "mine": "function"}

    s3.put_object(Bucket=bucket, Key="second-v2.zip", Body=zipped({
        f"{SITE}/shared.py": "VALUE = 'second, v2'\n"}))
    cfn.update_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket},
                                 {"ParameterKey": "SecondKey", "ParameterValue": "second-v2.zip"}])
    assert status_of(cfn, name) == "UPDATE_COMPLETE"
    assert invoke(harness_client, function)["shared"] == "second, v2"

    arns.append(harness_client("lambda").get_function_configuration(
        FunctionName=function)["Layers"][1]["Arn"])
    assert arns[2] != arns[1]  # a new version of the second layer, the old one deleted
    assert versions_of(harness_client, "Second") == {arns[2]}

    cfn.delete_stack(StackName=name)
    assert versions_of(harness_client, "First") == versions_of(harness_client, "Second") == set()


def versions_of(harness_client: Any, layer: str) -> set[str]:
    listed = harness_client("lambda").list_layer_versions(LayerName=layer)["LayerVersions"]
    return {version["LayerVersionArn"] for version in listed}


def test_layers_over_lambdas_size_limit_roll_the_stack_back_with_lambdas_reason(
        harness_client: Any) -> None:
    s3, cfn = harness_client("s3"), harness_client("cloudformation")
    bucket = f"layers-{stack_name()}"
    s3.create_bucket(Bucket=bucket)
    big = zeros_zip(140_000_000)  # the two layers: 280,000,000 bytes unzipped
    for key in ("first.zip", "second.zip"):
        s3.put_object(Bucket=bucket, Key=key, Body=big)
    s3.put_object(Bucket=bucket, Key="app.zip", Body=zipped({"app.py": HANDLER}))
    name = stack_name()

    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket},
                                 {"ParameterKey": "SecondKey", "ParameterValue": "second.zip"}])

    assert status_of(cfn, name) == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    [failed] = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "Fn"
    assert ("Function code combined with layers exceeds the maximum allowed size of 262144000 "
            "bytes. The actual size is") in failed["ResourceStatusReason"]
    assert versions_of(harness_client, "First") == versions_of(harness_client, "Second") == set()
    assert cfn.describe_stack_resources(StackName=name)["StackResources"] == []
