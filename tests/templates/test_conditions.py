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
