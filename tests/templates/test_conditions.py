"""A resource whose Condition is false is not made, and not listed: DescribeStackResources and
ListStackResources show what the stack made, as AWS does (moto lists an empty member for it)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

TEMPLATE = """
Parameters:
  WithQueue: {Type: String, Default: "false", AllowedValues: ["true", "false"]}
Conditions:
  QueueWanted: !Equals [!Ref WithQueue, "true"]
Resources:
  Topic: {Type: AWS::SNS::Topic}
  Queue: {Type: AWS::SQS::Queue, Condition: QueueWanted}
"""


def test_a_resource_whose_condition_is_false_is_neither_made_nor_listed(harness_client):
    cfn = harness_client("cloudformation", region_name="eu-west-2")
    cfn.create_stack(StackName="conditions-false", TemplateBody=TEMPLATE)
    described = cfn.describe_stack_resources(StackName="conditions-false")["StackResources"]
    assert [(r["LogicalResourceId"], r["ResourceType"]) for r in described] == [
        ("Topic", "AWS::SNS::Topic")]
    listed = cfn.list_stack_resources(StackName="conditions-false")["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in listed] == ["Topic"]
    with pytest.raises(ClientError, match="Resource Queue does not exist"):
        cfn.describe_stack_resource(StackName="conditions-false", LogicalResourceId="Queue")
    cfn.create_stack(StackName="conditions-true", TemplateBody=TEMPLATE,
                     Parameters=[{"ParameterKey": "WithQueue", "ParameterValue": "true"}])
    made = cfn.describe_stack_resources(StackName="conditions-true")["StackResources"]
    assert sorted(r["LogicalResourceId"] for r in made) == ["Queue", "Topic"]
    for name in ("conditions-false", "conditions-true"):
        cfn.delete_stack(StackName=name)


NO_VALUE = """
Parameters:
  Writes: {Type: String, Default: "false", AllowedValues: ["true", "false"]}
Conditions:
  Writing: !Equals [!Ref Writes, "true"]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: no-value-role
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: s3:GetObject, Resource: "*"}
              - !If [Writing, {Effect: Allow, Action: s3:PutObject, Resource: "*"},
                     !Ref AWS::NoValue]
"""


@pytest.mark.parametrize("writes, actions", [("false", ["s3:GetObject"]),
                                             ("true", ["s3:GetObject", "s3:PutObject"])])
def test_a_list_item_that_is_aws_novalue_is_removed(harness_client, writes, actions):
    cfn = harness_client("cloudformation", region_name="eu-west-2")
    name = f"no-value-{writes}"
    cfn.create_stack(StackName=name, TemplateBody=NO_VALUE,
                     Parameters=[{"ParameterKey": "Writes", "ParameterValue": writes}])
    try:
        document = harness_client("iam").get_role_policy(RoleName="no-value-role",
                                                         PolicyName="p")["PolicyDocument"]
        # CloudFormation drops the item; moto kept a null statement in its place.
        assert [s["Action"] for s in document["Statement"]] == actions
    finally:
        cfn.delete_stack(StackName=name)
