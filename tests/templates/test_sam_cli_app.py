"""The issues' "done when", with AWS SAM CLI's own ``sam deploy`` (the real client, from PyPI):
a SAM app with a REST and an HTTP API event, a layer, a function URL, an S3 and an SQS event, a
parameter in an environment variable and a policy template. Every route answers through the
function using the layer's module, the direct invoke answers, the S3 notification and the SQS
mapping exist as AWS lists them and fire, the function URL answers; an update (parameter and
code) takes effect; ``sam delete`` removes everything."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_sam_cli import sam
from tests.templates.test_stacks import get, outputs_of, status_of

STACK = "sam-full-app"
TEMPLATE = f"""
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {{Type: String, Default: hello}}
Globals:
  Function: {{Timeout: 10, Runtime: {LOCAL_RUNTIME}}}
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    # A name, not a Ref, in the policy below: a Ref would make a circle (bucket -> function ->
    # role -> bucket), which CloudFormation refuses, as AWS documents for S3 events.
    Properties: {{BucketName: !Sub "${{AWS::StackName}}-uploads"}}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {{VisibilityTimeout: 30}}
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [{LOCAL_RUNTIME}]
  AppFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Layers: [!Ref Shared]
      Environment: {{Variables: {{GREETING: !Ref Greeting}}}}
      Policies: [{{S3CrudPolicy: {{BucketName: !Sub "${{AWS::StackName}}-uploads"}}}}]
      FunctionUrlConfig: {{AuthType: NONE}}
      Events:
        Rest: {{Type: Api, Properties: {{Path: /rest, Method: get}}}}
        Http: {{Type: HttpApi, Properties: {{Path: /http, Method: get}}}}
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter: {{S3Key: {{Rules: [{{Name: prefix, Value: incoming/}}]}}}}
        Job: {{Type: SQS, Properties: {{Queue: !GetAtt Jobs.Arn, BatchSize: 5}}}}
Outputs:
  RestApi: {{Value: !Sub "https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/rest"}}
  HttpApi: {{Value: !Sub "https://${{ServerlessHttpApi}}.execute-api.${{AWS::Region}}.amazonaws.com/http"}}
  Url: {{Value: !GetAtt AppFunctionUrl.FunctionUrl}}
  Function: {{Value: !Ref AppFunction}}
  Bucket: {{Value: !Ref Uploads}}
  Queue: {{Value: !Ref Jobs}}
"""

APP = '''
import json, os
import shared  # from the layer

VERSION = "v1"

def handler(event, context):
    if "Records" in event:
        for record in event["Records"]:
            print("record", record.get("eventSource"), json.dumps(record))
        return {}
    key = event.get("routeKey") or event.get("httpMethod", "invoke")
    return {"statusCode": 200, "body": json.dumps(
        {"greeting": shared.greet(os.environ["GREETING"]), "key": key, "version": VERSION})}
'''

LAYER = '''
def greet(word):
    return word + " from the layer"
'''


def deploy(sam_cli: Path, endpoint: str, app: Path, greeting: str):  # type: ignore[no-untyped-def]
    done = sam(sam_cli, endpoint, app, "deploy", "--stack-name", STACK, "--resolve-s3",
               "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset", "--no-progressbar",
               "--parameter-overrides", f"Greeting={greeting}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def url_get(url: str) -> tuple[int, bytes]:
    """GET a function URL in LocalStack's form, sent to the emulator on loopback with its Host."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port or 80, timeout=60)
    try:
        connection.request("GET", parts.path or "/", headers={"Host": parts.netloc})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def records_logged(logs: Any, function: str, source: str, deadline_s: float = 120) -> list[Any]:
    """The records of ``source`` the function logged, polled until one arrives or the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        found = [json.loads(e["message"].split(" ", 2)[2]) for e in events
                 if e["message"].startswith(f"record {source} ")]
        if found:
            return found
        time.sleep(0.2)
    return []


def test_sam_deploy_of_a_full_app_then_update_then_delete(
        sam_cli: Path, tmp_path: Path, harness_endpoint: str, harness_client: Any) -> None:
    for folder, name, text in (("src", "app.py", APP), ("layer/python", "shared.py", LAYER)):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / name).write_text(text)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    cfn, lam, s3 = (harness_client(s) for s in ("cloudformation", "lambda", "s3"))

    deploy(sam_cli, harness_endpoint, tmp_path, "hej")
    assert status_of(cfn, STACK) == "CREATE_COMPLETE"
    out = outputs_of(cfn, STACK)
    rest_id, http_id = (out[k].split("//")[1].split(".")[0] for k in ("RestApi", "HttpApi"))
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{rest_id}/Prod/rest")
    assert (status, json.loads(body)["greeting"]) == (200, "hej from the layer")
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{http_id}/http")
    assert (status, json.loads(body)["key"]) == (200, "GET /http")
    direct = json.loads(lam.invoke(FunctionName=out["Function"], Payload=b"{}")["Payload"].read())
    assert json.loads(direct["body"])["greeting"] == "hej from the layer"

    function_arn = lam.get_function(FunctionName=out["Function"])["Configuration"]["FunctionArn"]
    notifications = s3.get_bucket_notification_configuration(
        Bucket=out["Bucket"])["LambdaFunctionConfigurations"]
    assert [(n["LambdaFunctionArn"], n["Events"]) for n in notifications] == [
        (function_arn, ["s3:ObjectCreated:*"])]
    mappings = lam.list_event_source_mappings(FunctionName=out["Function"])["EventSourceMappings"]
    assert [(m["EventSourceArn"].rsplit(":", 1)[-1], m["BatchSize"]) for m in mappings] == [
        (out["Queue"].rsplit("/", 1)[-1], 5)]

    # The triggers fire (issue 13): an upload under the prefix, a message, the function URL.
    logs = harness_client("logs")
    s3.put_object(Bucket=out["Bucket"], Key="incoming/a b.csv", Body=b"1,2\n")
    uploads = records_logged(logs, out["Function"], "aws:s3")
    assert [r["s3"]["object"]["key"] for r in uploads] == ["incoming/a+b.csv"]
    harness_client("sqs").send_message(QueueUrl=out["Queue"], MessageBody="job 1")
    jobs = records_logged(logs, out["Function"], "aws:sqs")
    assert [r["body"] for r in jobs] == ["job 1"]
    status, body = url_get(out["Url"])
    assert (status, json.loads(body)["key"]) == (200, "$default")

    # An update: a changed parameter and changed code both take effect.
    (tmp_path / "src" / "app.py").write_text(APP.replace('VERSION = "v1"', 'VERSION = "v2"'))
    deploy(sam_cli, harness_endpoint, tmp_path, "hallo")
    assert status_of(cfn, STACK) == "UPDATE_COMPLETE"
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{rest_id}/Prod/rest")
    assert (status, json.loads(body)["greeting"], json.loads(body)["version"]) == (
        200, "hallo from the layer", "v2")

    # CloudFormation does not delete a bucket that holds objects: empty it first, as on AWS.
    for item in s3.list_objects_v2(Bucket=out["Bucket"]).get("Contents", []):
        s3.delete_object(Bucket=out["Bucket"], Key=item["Key"])
    done = sam(sam_cli, harness_endpoint, tmp_path, "delete", "--stack-name", STACK,
               "--no-prompts")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert out["Function"] not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert lam.list_event_source_mappings(FunctionName=function_arn)["EventSourceMappings"] == []
    assert rest_id not in {a["id"] for a in harness_client("apigateway").get_rest_apis()["items"]}
    assert http_id not in {a["ApiId"] for a in harness_client("apigatewayv2").get_apis()["Items"]}
    assert out["Bucket"] not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    # SAM's layers default to RetentionPolicy Retain (DeletionPolicy Retain): they stay, as on AWS.
    layers = lam.list_layers()["Layers"]
    assert any(layer["LayerName"].startswith("Shared") for layer in layers)
