"""AWS SAM CLI's own ``sam deploy`` and ``sam delete`` (the real client, from PyPI) against the
emulator: its managed artifacts stack and bucket, the upload of the code, the change set, the
API answering through the function, and everything gone after the delete."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_stacks import get, outputs_of, status_of

TEMPLATE = f"""
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {{Type: String, Default: hello}}
Globals:
  Function: {{Timeout: 10}}
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: {LOCAL_RUNTIME}
      Environment: {{Variables: {{GREETING: !Ref Greeting}}}}
      Events:
        Hello:
          Type: Api
          Properties: {{Path: /hello, Method: get}}
Outputs:
  Api:
    Value: !Sub "https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/hello"
"""

APP = '''
import json, os
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"greeting": os.environ["GREETING"],
                                                   "path": event["path"]})}
'''


def sam(sam_cli: Path, endpoint: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAM_"))}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint,
               SAM_CLI_TELEMETRY="0")
    # sam's waiters poll every 5 s for up to an hour; a stuck deploy fails by this bound.
    return subprocess.run([str(sam_cli), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=600, check=False)


def test_sam_deploy_and_sam_delete(sam_cli: Path, tmp_path: Path, harness_endpoint: str,
                                   harness_client: Any) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    cfn = harness_client("cloudformation")

    done = sam(sam_cli, harness_endpoint, tmp_path, "deploy", "--stack-name", "sam-app",
               "--resolve-s3", "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset",
               "--no-progressbar", "--parameter-overrides", "Greeting=from-sam")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert status_of(cfn, "sam-app") == "CREATE_COMPLETE"
    assert status_of(cfn, "aws-sam-cli-managed-default") == "CREATE_COMPLETE"
    api_id = outputs_of(cfn, "sam-app")["Api"].split("//")[1].split(".")[0]
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/hello")
    assert status == 200, body
    assert json.loads(body) == {"greeting": "from-sam", "path": "/hello"}
    function = next(r["PhysicalResourceId"] for r in
                    cfn.describe_stack_resources(StackName="sam-app")["StackResources"]
                    if r["LogicalResourceId"] == "HelloFunction")

    done = sam(sam_cli, harness_endpoint, tmp_path, "delete", "--stack-name", "sam-app",
               "--no-prompts")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    functions = {f["FunctionName"] for f in harness_client("lambda").list_functions()["Functions"]}
    assert function not in functions
    apis = {a["id"] for a in harness_client("apigateway").get_rest_apis()["items"]}
    assert api_id not in apis
