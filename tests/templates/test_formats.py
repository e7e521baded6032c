"""The pure parts: template text, the SAM transform, TemplateURL forms, the Query protocol."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from harness.templates.errors import TemplateError
from harness.templates.locations import s3_location
from harness.templates.parse import parse_template, transforms_of
from harness.templates.query import NAMESPACE, QueryForm, error_xml, result_xml, stack_input
from harness.templates.sam import is_sam, sam_transform

SAM = """
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Timeout: 7}
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(e, c): return 1"
      Environment: {Variables: {STAGE: !Ref Stage}}
      Policies: [{S3ReadPolicy: {BucketName: data}}]
      FunctionUrlConfig: {AuthType: NONE}
      Events:
        Get: {Type: Api, Properties: {Path: /items, Method: get}}
"""


def test_yaml_short_tags_become_intrinsics_and_dates_stay_strings() -> None:
    template = parse_template("""
AWSTemplateFormatVersion: 2010-09-09
Resources:
  A: {Type: X::Y::Z, Properties: {Arn: !GetAtt B.Arn, Name: !Sub "${AWS::StackName}-a",
      List: !Join [",", [!Ref B, c]], Cond: !If [IsProd, 1, 2]}}
""")
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    props = template["Resources"]["A"]["Properties"]
    assert props["Arn"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-a"}
    assert props["List"] == {"Fn::Join": [",", [{"Ref": "B"}, "c"]]}
    assert props["Cond"] == {"Fn::If": ["IsProd", 1, 2]}


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "JSON not well-formed"),
    ("a: [1, 2", "YAML not well-formed"),
    ("- a list", "must be a JSON or YAML object"),
    ("Resources: {}", "At least one Resources member"),
])
def test_malformed_templates_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(text)


def test_sam_transform_makes_what_aws_makes() -> None:
    template = parse_template(SAM)
    assert is_sam(template) and transforms_of(template) == ["AWS::Serverless-2016-10-31"]
    out = sam_transform(template, {"Stage": "prod"}, region="eu-west-1",
                        account_id="123456789012", stack_name="s")
    types = {logical: r["Type"] for logical, r in out["Resources"].items()}
    assert types["Fn"] == "AWS::Lambda::Function"
    assert types["FnRole"] == "AWS::IAM::Role"
    assert types["FnUrl"] == "AWS::Lambda::Url"
    assert types["ServerlessRestApi"] == "AWS::ApiGateway::RestApi"
    assert types["ServerlessRestApiProdStage"] == "AWS::ApiGateway::Stage"
    function = out["Resources"]["Fn"]["Properties"]
    assert function["Timeout"] == 7  # from Globals
    role = out["Resources"]["FnRole"]["Properties"]
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in \
        role["ManagedPolicyArns"]  # AWS-managed policy, from the translator's bundled map
    assert any(p["PolicyName"].startswith("FnRolePolicy") for p in role["Policies"])
    assert "Transform" not in out
    assert transforms_of(template) == ["AWS::Serverless-2016-10-31"]  # input left unchanged


def test_sam_errors_name_the_resource_and_property() -> None:
    broken = parse_template(SAM.replace("Handler:", "Handlr:"))
    with pytest.raises(TemplateError, match=r"\[Fn\] is invalid.*Handlr") as caught:
        sam_transform(broken, {}, region="us-east-1", account_id="123456789012")
    assert caught.value.code == "ValidationError" and caught.value.status == 400


def test_other_transforms_are_refused_by_name() -> None:
    template = parse_template(SAM.replace("Transform: AWS::Serverless-2016-10-31",
                                          "Transform: [AWS::Serverless-2016-10-31, My::Macro]"))
    with pytest.raises(TemplateError, match="My::Macro"):
        sam_transform(template, {}, region="us-east-1", account_id="123456789012")


@pytest.mark.parametrize(("url", "where"), [
    ("http://127.0.0.1:4566/bucket/dir/t.yaml", ("bucket", "dir/t.yaml")),
    ("http://localhost:4566/bucket/t.yaml", ("bucket", "t.yaml")),
    ("http://s3.localhost.localstack.cloud:4566/bucket/t.yaml", ("bucket", "t.yaml")),
    ("http://bucket.s3.localhost.localstack.cloud:4566/t.yaml", ("bucket", "t.yaml")),
    ("https://bucket.s3.amazonaws.com/t.yaml", ("bucket", "t.yaml")),
    ("https://bucket.s3.eu-west-1.amazonaws.com/a%20b.yaml", ("bucket", "a b.yaml")),
    ("https://s3.eu-west-1.amazonaws.com/bucket/t.yaml", ("bucket", "t.yaml")),
    ("https://s3.amazonaws.com/my.bucket/t.yaml", ("my.bucket", "t.yaml")),
    ("s3://bucket/k/t.json", ("bucket", "k/t.json")),
])
def test_template_url_forms(url: str, where: tuple[str, str]) -> None:
    assert s3_location(url) == where


@pytest.mark.parametrize("url", ["https://example.com/t.yaml", "http://127.0.0.1:4566/bucket",
                                 "ftp://bucket/t.yaml", "not a url"])
def test_template_urls_that_name_no_object_are_refused(url: str) -> None:
    with pytest.raises(TemplateError, match="TemplateURL must be an Amazon S3 URL"):
        s3_location(url)


def test_query_form_members_and_stack_input() -> None:
    form = QueryForm.decode(
        b"Action=CreateStack&StackName=s&Parameters.member.2.ParameterKey=B"
        b"&Parameters.member.2.UsePreviousValue=true&Parameters.member.1.ParameterKey=A"
        b"&Parameters.member.1.ParameterValue=x+y&Tags.member.1.Key=team&Tags.member.1.Value=ml"
        b"&NotificationARNs.member.1=arn%3Asns&OnFailure=DO_NOTHING&TimeoutInMinutes=5")
    inputs = stack_input(form)
    assert inputs.name == "s" and inputs.parameters == {"A": "x y"} and inputs.previous == ("B",)
    assert inputs.tags == {"team": "ml"} and inputs.notification_arns == ("arn:sns",)
    assert inputs.on_failure == "DO_NOTHING" and inputs.timeout_minutes == 5
    rewritten = form.replaced(("TemplateURL",), {"TemplateBody": "{}"})
    assert QueryForm.decode(rewritten.encode()).get("TemplateBody") == "{}"


def test_xml_answers_parse_as_cloudformation_answers() -> None:
    ok = ET.fromstring(result_xml("CreateStack", {"StackId": "arn:<id>&"}, "req-1"))
    assert ok.find(f"{{{NAMESPACE}}}CreateStackResult/{{{NAMESPACE}}}StackId").text == "arn:<id>&"
    error = ET.fromstring(error_xml("ValidationError", "bad <thing>", "req-2"))
    assert error.find(f"{{{NAMESPACE}}}Error/{{{NAMESPACE}}}Message").text == "bad <thing>"
