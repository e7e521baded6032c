"""A function whose PackageType changes is replaced, as CloudFormation replaces it (its
documentation: "Update requires: Replacement"): a new function, the old one deleted; a function
named in the template cannot be replaced, and the update rolls back saying so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.templates.test_stacks import plain_template, status_of

IMAGE = {"PackageType": "Image", "Handler": None, "Runtime": None,
         "Code": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn-replace:v1"}}


def _template(function_properties: dict[str, Any]) -> str:
    template = json.loads(plain_template(function_properties))
    properties = template["Resources"]["Function"]["Properties"]
    template["Resources"]["Function"]["Properties"] = {
        key: value for key, value in properties.items() if value is not None}
    return json.dumps(template)


def _function(cfn: Any, name: str) -> str:
    return str(cfn.describe_stack_resource(StackName=name, LogicalResourceId="Function")[
        "StackResourceDetail"]["PhysicalResourceId"])


def test_zip_to_image_makes_a_new_function_and_deletes_the_old(harness_client: Any) -> None:
    cfn, lam = harness_client("cloudformation"), harness_client("lambda")
    name = "fn-replace-unnamed"
    cfn.create_stack(StackName=name, TemplateBody=_template({}))
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    old = _function(cfn, name)

    cfn.update_stack(StackName=name, TemplateBody=_template(IMAGE))

    assert status_of(cfn, name) == "UPDATE_COMPLETE"
    new = _function(cfn, name)
    assert new != old
    configuration = lam.get_function_configuration(FunctionName=new)
    assert configuration["PackageType"] == "Image"
    assert lam.get_function(FunctionName=new)["Code"]["ImageUri"] == IMAGE["Code"]["ImageUri"]
    with pytest.raises(ClientError) as gone:
        lam.get_function(FunctionName=old)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    cfn.delete_stack(StackName=name)


def test_a_named_function_cannot_be_replaced_and_the_update_rolls_back(
        harness_client: Any) -> None:
    cfn, lam = harness_client("cloudformation"), harness_client("lambda")
    name, function = "fn-replace-named", "fn-replace-named-function"
    cfn.create_stack(StackName=name, TemplateBody=_template({"FunctionName": function}))
    assert status_of(cfn, name) == "CREATE_COMPLETE"

    cfn.update_stack(StackName=name,
                     TemplateBody=_template({**IMAGE, "FunctionName": function}))

    assert status_of(cfn, name) == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
              if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Function"]
    assert failed[0]["ResourceStatusReason"] == (
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
        f"Rename {function} and update the stack again.")
    assert lam.get_function_configuration(FunctionName=function)["PackageType"] == "Zip"
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == 1
    cfn.delete_stack(StackName=name)
