"""The CloudFormation types of event sources, made through a stack and listed by each service's
own API as AWS lists them: SQS mappings (batch size, response types, scaling, filters), a queue's
redrive policy, SNS subscriptions with filter policies and the queue policy of an SQS fan-out,
EventBridge rules (pattern, schedule, targets), a Scheduler schedule, asynchronous invocation
destinations, and an HTTP API's Integration and Route written by hand; an update changes them
in place, a delete removes them."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_stacks import get, stack_name, status_of

TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  BatchSize: {{Type: Number, Default: 5}}
  Kind: {{Type: String, Default: a}}
Resources:
  Dlq: {{Type: AWS::SQS::Queue}}
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}}
  Topic: {{Type: AWS::SNS::Topic}}
  Failures: {{Type: AWS::SQS::Queue}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: index.handler
      InlineCode: |
        import json
        def handler(event, context):
            return {{"statusCode": 200, "body": json.dumps({{"route": event.get("routeKey")}})}}
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        MaximumEventAgeInSeconds: 120
        DestinationConfig: {{OnFailure: {{Type: SQS, Destination: !GetAtt Failures.Arn}}}}
      Events:
        Job:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: !Ref BatchSize
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {{MaximumConcurrency: 2}}
            FilterCriteria: {{Filters: [{{Pattern: '{{"body": {{"kind": ["a"]}}}}'}}]}}
        Note:
          Type: SNS
          Properties: {{Topic: !Ref Topic, FilterPolicy: {{kind: [!Ref Kind]}}}}
        Fanout:
          Type: SNS
          Properties: {{Topic: !Ref Topic, SqsSubscription: true}}
        Hourly:
          Type: Schedule
          Properties: {{Schedule: rate(1 hour), Input: '{{"job": "hourly"}}'}}
        Orders:
          Type: EventBridgeRule
          Properties: {{Pattern: {{source: [shop.orders], detail-type: [created]}}}}
        Nightly:
          Type: ScheduleV2
          Properties: {{ScheduleExpression: "cron(0 2 * * ? *)", Input: '{{"job": "nightly"}}'}}
  HandApi:
    Type: AWS::ApiGatewayV2::Api
    Properties: {{Name: hand-written, ProtocolType: HTTP}}
  HandIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref HandApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt Fn.Arn
      PayloadFormatVersion: "2.0"
  HandRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref HandApi
      RouteKey: GET /hand
      Target: !Sub integrations/${{HandIntegration}}
  HandStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {{ApiId: !Ref HandApi, StageName: $default, AutoDeploy: true}}
  HandPermission:  # written by hand too: API Gateway invokes the function only with it
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref Fn
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:aws:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{HandApi}}/*"
"""

TYPES = {
    "Dlq": "AWS::SQS::Queue", "Jobs": "AWS::SQS::Queue", "Topic": "AWS::SNS::Topic",
    "Failures": "AWS::SQS::Queue", "Fn": "AWS::Lambda::Function", "FnRole": "AWS::IAM::Role",
    "FnEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
    "FnJob": "AWS::Lambda::EventSourceMapping", "FnNote": "AWS::SNS::Subscription",
    "FnNotePermission": "AWS::Lambda::Permission", "FnFanout": "AWS::SNS::Subscription",
    "FnFanoutQueue": "AWS::SQS::Queue", "FnFanoutQueuePolicy": "AWS::SQS::QueuePolicy",
    "FnFanoutEventSourceMapping": "AWS::Lambda::EventSourceMapping",
    "FnHourly": "AWS::Events::Rule", "FnHourlyPermission": "AWS::Lambda::Permission",
    "FnOrders": "AWS::Events::Rule", "FnOrdersPermission": "AWS::Lambda::Permission",
    "FnNightly": "AWS::Scheduler::Schedule", "FnNightlyRole": "AWS::IAM::Role",
    "HandApi": "AWS::ApiGatewayV2::Api", "HandIntegration": "AWS::ApiGatewayV2::Integration",
    "HandRoute": "AWS::ApiGatewayV2::Route", "HandStage": "AWS::ApiGatewayV2::Stage",
    "HandPermission": "AWS::Lambda::Permission",
}


def queue_arn(url: str) -> str:
    return f"arn:aws:sqs:us-east-1:123456789012:{url.rsplit('/', 1)[-1]}"


def deploy(cfn: Any, name: str, create: bool, **parameters: str) -> dict[str, str]:
    """Create or update the stack; logical id -> physical id, once the types are AWS's."""
    call = cfn.create_stack if create else cfn.update_stack
    call(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
         Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    assert status_of(cfn, name) == ("CREATE_COMPLETE" if create else "UPDATE_COMPLETE")
    listed = cfn.describe_stack_resources(StackName=name)["StackResources"]
    assert {r["LogicalResourceId"]: r["ResourceType"] for r in listed} == TYPES
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed}


def check_mappings(lam: Any, ids: dict[str, str], batch_size: int) -> None:
    mappings = {m["UUID"]: m for m in
                lam.list_event_source_mappings(FunctionName=ids["Fn"])["EventSourceMappings"]}
    assert set(mappings) == {ids["FnJob"], ids["FnFanoutEventSourceMapping"]}
    job = mappings[ids["FnJob"]]
    assert (job["EventSourceArn"], job["BatchSize"], job["State"]) == (
        queue_arn(ids["Jobs"]), batch_size, "Enabled")
    assert job["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert job["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert job["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]}
    assert mappings[ids["FnFanoutEventSourceMapping"]]["EventSourceArn"] == queue_arn(
        ids["FnFanoutQueue"])


def check_subscriptions(sns: Any, ids: dict[str, str], function_arn: str, kind: str) -> None:
    listed = {s["SubscriptionArn"]: s for s in
              sns.list_subscriptions_by_topic(TopicArn=ids["Topic"])["Subscriptions"]}
    assert set(listed) == {ids["FnNote"], ids["FnFanout"]}
    assert (listed[ids["FnNote"]]["Protocol"], listed[ids["FnNote"]]["Endpoint"]) == (
        "lambda", function_arn)
    assert (listed[ids["FnFanout"]]["Protocol"], listed[ids["FnFanout"]]["Endpoint"]) == (
        "sqs", queue_arn(ids["FnFanoutQueue"]))
    attributes = sns.get_subscription_attributes(SubscriptionArn=ids["FnNote"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"kind": [kind]}


def check_queues(sqs: Any, ids: dict[str, str]) -> None:
    """The redrive policy, and the policy SAM gives a fan-out queue: the topic may send."""
    def attribute(url: str, name: str) -> Any:
        queue = sqs.get_queue_url(QueueName=url.rsplit("/", 1)[-1])["QueueUrl"]
        return json.loads(sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=[name])["Attributes"][name])

    assert attribute(ids["Jobs"], "RedrivePolicy") == {
        "deadLetterTargetArn": queue_arn(ids["Dlq"]), "maxReceiveCount": 3}
    [statement] = attribute(ids["FnFanoutQueue"], "Policy")["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow", "sqs:SendMessage", queue_arn(ids["FnFanoutQueue"]))
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": ids["Topic"]}}


def check_rules(events: Any, ids: dict[str, str], function_arn: str) -> None:
    hourly = events.describe_rule(Name=ids["FnHourly"])
    assert (hourly["ScheduleExpression"], hourly["State"]) == ("rate(1 hour)", "ENABLED")
    assert [(t["Arn"], t.get("Input")) for t in events.list_targets_by_rule(
        Rule=ids["FnHourly"])["Targets"]] == [(function_arn, '{"job": "hourly"}')]
    orders = events.describe_rule(Name=ids["FnOrders"])
    assert json.loads(orders["EventPattern"]) == {"source": ["shop.orders"],
                                                  "detail-type": ["created"]}
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=ids["FnOrders"])["Targets"]] == [
        function_arn]


def check_schedule(scheduler: Any, ids: dict[str, str], function_arn: str) -> None:
    nightly = scheduler.get_schedule(Name=ids["FnNightly"])
    assert (nightly["ScheduleExpression"], nightly["State"], nightly["GroupName"]) == (
        "cron(0 2 * * ? *)", "ENABLED", "default")
    assert (nightly["Target"]["Arn"], nightly["Target"]["Input"]) == (
        function_arn, '{"job": "nightly"}')
    assert nightly["FlexibleTimeWindow"] == {"Mode": "OFF"}


def check_http_api(v2: Any, ids: dict[str, str], function_arn: str) -> None:
    [route] = v2.get_routes(ApiId=ids["HandApi"])["Items"]
    assert (route["RouteId"], route["RouteKey"], route["Target"]) == (
        ids["HandRoute"], "GET /hand", f"integrations/{ids['HandIntegration']}")
    [integration] = v2.get_integrations(ApiId=ids["HandApi"])["Items"]
    assert (integration["IntegrationId"], integration["IntegrationType"],
            integration["IntegrationUri"], integration["PayloadFormatVersion"]) == (
        ids["HandIntegration"], "AWS_PROXY", function_arn, "2.0")


def test_event_source_types_exist_as_aws_lists_them_and_update_in_place(
        harness_client: Any, harness_endpoint: str) -> None:
    cfn, lam, sns = (harness_client(s) for s in ("cloudformation", "lambda", "sns"))
    name = stack_name()
    ids = deploy(cfn, name, create=True)
    function_arn = lam.get_function(FunctionName=ids["Fn"])["Configuration"]["FunctionArn"]

    check_mappings(lam, ids, batch_size=5)
    check_subscriptions(sns, ids, function_arn, kind="a")
    check_queues(harness_client("sqs"), ids)
    check_rules(harness_client("events"), ids, function_arn)
    check_schedule(harness_client("scheduler"), ids, function_arn)
    check_http_api(harness_client("apigatewayv2"), ids, function_arn)
    [config] = lam.list_function_event_invoke_configs(
        FunctionName=ids["Fn"])["FunctionEventInvokeConfigs"]
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"],
            config["DestinationConfig"]) == (  # AWS lists an unset destination as {}
        1, 120, {"OnSuccess": {}, "OnFailure": {"Destination": queue_arn(ids["Failures"])}})
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{ids['HandApi']}/hand")
    assert (status, json.loads(body)) == (200, {"route": "GET /hand"})

    updated = deploy(cfn, name, create=False, BatchSize="7", Kind="b")

    assert updated == ids  # the same mapping and subscription, changed in place
    check_mappings(lam, ids, batch_size=7)
    check_subscriptions(sns, ids, function_arn, kind="b")

    cfn.delete_stack(StackName=name)
    assert lam.list_event_source_mappings(FunctionName=function_arn)["EventSourceMappings"] == []
    subscribed = {s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]}
    assert not subscribed & {ids["FnNote"], ids["FnFanout"]}
    rules = {r["Name"] for r in harness_client("events").list_rules()["Rules"]}
    assert not rules & {ids["FnHourly"], ids["FnOrders"]}
    schedules = {s["Name"] for s in harness_client("scheduler").list_schedules()["Schedules"]}
    assert ids["FnNightly"] not in schedules
    apis = {a["ApiId"] for a in harness_client("apigatewayv2").get_apis()["Items"]}
    assert ids["HandApi"] not in apis
