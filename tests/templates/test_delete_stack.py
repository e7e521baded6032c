"""DeleteStack as CloudFormation does it: a bucket that still holds objects fails the delete
(DELETE_FAILED naming it, nothing lost); RetainResources keeps it and deletes the rest; a stack
that is gone deletes without error."""

from __future__ import annotations

from typing import Any

from tests.templates.test_stacks import stack_name

TEMPLATE = """
Resources:
  Data:
    Type: AWS::S3::Bucket
  Queue:
    Type: AWS::SQS::Queue
"""


def test_a_full_bucket_fails_the_delete_and_retain_resources_keeps_it(
        harness_client: Any) -> None:
    cfn, s3, sqs = (harness_client(s) for s in ("cloudformation", "s3", "sqs"))
    name = stack_name()
    stack_id = cfn.create_stack(StackName=name, TemplateBody=TEMPLATE)["StackId"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}
    s3.put_object(Bucket=physical["Data"], Key="kept.txt", Body=b"precious")

    cfn.delete_stack(StackName=name)
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    failed = [e for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
              if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] == "Data"]
    assert "not empty" in failed[0]["ResourceStatusReason"]
    assert s3.get_object(Bucket=physical["Data"], Key="kept.txt")["Body"].read() == b"precious"

    cfn.delete_stack(StackName=name, RetainResources=["Data"])
    gone = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert gone["StackStatus"] == "DELETE_COMPLETE"
    assert physical["Data"] in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert physical["Queue"] not in " ".join(sqs.list_queues().get("QueueUrls", []))
    s3.delete_object(Bucket=physical["Data"], Key="kept.txt")
    s3.delete_bucket(Bucket=physical["Data"])


def test_deleting_a_stack_that_does_not_exist_succeeds(harness_client: Any) -> None:
    harness_client("cloudformation").delete_stack(StackName="never-was-a-stack")
