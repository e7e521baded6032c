"""Parameter values against the template's declarations: refused with CloudFormation's own
ValidationError before anything is made (moto alone deploys them as given)."""

from __future__ import annotations

import itertools

import pytest
from botocore.exceptions import ClientError

from harness.templates.errors import TemplateError
from harness.templates.parameters import check_parameters

DECLARED = {
    "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Memory": {"Type": "Number", "Default": 512, "MinValue": 128, "MaxValue": 10240},
    "Name": {"Type": "String", "AllowedPattern": "[a-z][a-z0-9-]*", "MinLength": 3,
             "MaxLength": 8, "Default": "app"},
    "Needed": {"Type": "String"},
    "Subnets": {"Type": "CommaDelimitedList", "Default": ""},
}
_names = itertools.count()


@pytest.mark.parametrize(("given", "message"), [
    ({"Needed": "x", "Nope": "1"}, "Parameters: [Nope] do not exist in the template"),
    ({}, "Parameters: [Needed] must have values"),
    ({"Needed": "x", "Stage": "test"}, "Parameter 'Stage' must be one of AllowedValues"),
    ({"Needed": "x", "Memory": "64"}, "Parameter 'Memory' must be a number not less than 128"),
    ({"Needed": "x", "Memory": "20000"},
     "Parameter 'Memory' must be a number not greater than 10240"),
    ({"Needed": "x", "Memory": "lots"}, "Parameter 'Memory' must be a number."),
    ({"Needed": "x", "Name": "Bad_Name"}, "Parameter 'Name' must match pattern [a-z][a-z0-9-]*"),
    ({"Needed": "x", "Name": "ab"}, "Parameter 'Name' must contain at least 3 characters"),
    ({"Needed": "x", "Name": "abcdefghi"}, "Parameter 'Name' must contain at most 8 characters"),
])
def test_a_value_the_declaration_refuses_is_a_validation_error(given, message):
    with pytest.raises(TemplateError) as caught:
        check_parameters(DECLARED, given)
    assert caught.value.message == message
    assert caught.value.code == "ValidationError"


def test_values_within_the_declarations_and_defaults_pass():
    check_parameters(DECLARED, {"Needed": "x", "Stage": "prod", "Memory": "128",
                                "Name": "my-app", "Subnets": "a,b"})


def test_a_previous_value_is_not_checked_again_but_must_be_declared():
    check_parameters(DECLARED, {}, previous=("Needed",))
    with pytest.raises(TemplateError, match=r"\[Gone\] do not exist"):
        check_parameters(DECLARED, {"Needed": "x"}, previous=("Gone",))


def test_a_malformed_constraint_is_a_template_format_error():
    with pytest.raises(TemplateError, match="Template format error: parameter 'P'"):
        check_parameters({"P": {"Type": "String", "MinLength": "many", "Default": "x"}}, {})


def test_create_stack_refuses_an_unknown_parameter_and_makes_nothing(harness_client):
    cfn = harness_client("cloudformation", region_name="eu-west-2")
    name = f"params-{next(_names)}"
    body = ("Parameters:\n  Stage: {Type: String, AllowedValues: [dev, prod], Default: dev}\n"
            "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n")
    with pytest.raises(ClientError) as caught:
        cfn.create_stack(StackName=name, TemplateBody=body,
                         Parameters=[{"ParameterKey": "Stage", "ParameterValue": "qa"}])
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationError", "Parameter 'Stage' must be one of AllowedValues")
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)
