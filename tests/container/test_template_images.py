"""``harness deploy --template`` of a SAM app whose function is ``PackageType: Image`` with SAM's
build Metadata: the image is built on the engine as ``sam build`` builds it, deployed with its
ImageUri, and answers from a container; a changed image reaches the function on redeploy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.emulator import Emulator
from tests.templates.test_stacks import get

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  ImageFn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      MemorySize: 256
      Events:
        Get: {Type: Api, Properties: {Path: /said, Method: get}}
    Metadata:
      Dockerfile: Dockerfile.lambda
      DockerContext: ./image
      DockerTag: v1
      DockerBuildArgs: {BASE_IMAGE: __BASE__}
Outputs:
  Function: {Value: !Ref ImageFn}
  Api:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/said"
"""
DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY app.py ${LAMBDA_TASK_ROOT}/
RUN python3 -c "import app"
CMD ["app.handler"]
"""
APP = """
import json, os
def handler(event, context):
    body = {"said": %r, "task_root": os.environ["LAMBDA_TASK_ROOT"]}
    return {"statusCode": 200, "body": json.dumps(body)} if "httpMethod" in event else body
"""


def _app(root: Path, base_image: str, said: str) -> Path:
    (root / "image").mkdir(parents=True, exist_ok=True)
    (root / "image" / "Dockerfile.lambda").write_text(DOCKERFILE)
    (root / "image" / "app.py").write_text(APP % said)
    (root / "template.yaml").write_text(TEMPLATE.replace("__BASE__", base_image))
    return root / "template.yaml"


def _deploy(emulator: Emulator, template: Path, tmp_path: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               HARNESS_STATE_DIR=str(tmp_path / "cli-state"))
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "deploy", "--endpoint-url", emulator.url,
         "--region", "us-east-1", "--template", str(template), "--stack-name", "image-app"],
        env=env, text=True, capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout)["outputs"])


def _invoke(aws: Any, function: str) -> dict[str, Any]:
    answer = aws("lambda").invoke(FunctionName=function, Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return dict(body)


def test_image_function_is_built_from_metadata_and_answers(
        aws: Any, container_emulator: Emulator, docker_client: Any, base_image: str,
        tmp_path: Path) -> None:
    template = _app(tmp_path / "app", base_image, "built from the template")
    outputs = _deploy(container_emulator, template, tmp_path)

    function = outputs["Function"]
    config = aws("lambda").get_function(FunctionName=function)
    uri = config["Code"]["ImageUri"]
    assert config["Configuration"]["PackageType"] == "Image"
    assert uri.startswith("imagefn:v1-")  # sam build's name, with the image id's digits added
    assert docker_client.images.get("imagefn:v1").id == docker_client.images.get(uri).id
    assert _invoke(aws, function) == {"said": "built from the template",
                                      "task_root": "/var/task"}
    api_id = outputs["Api"].split("//")[1].split(".")[0]
    status, body = get(f"{container_emulator.url}/_aws/execute-api/{api_id}/Prod/said")
    assert status == 200 and json.loads(body)["said"] == "built from the template"

    (tmp_path / "app" / "image" / "app.py").write_text(APP % "rebuilt")
    _deploy(container_emulator, template, tmp_path)
    assert aws("lambda").get_function(FunctionName=function)["Code"]["ImageUri"] != uri
    assert _invoke(aws, function)["said"] == "rebuilt"
