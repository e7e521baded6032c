"""Functions that call AWS with their execution role's credentials and return what they saw, and
helpers to make their roles, with plain boto3 clients."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.conftest import LOCAL_RUNTIME, build_zip

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})

# Makes the call the event names with the function's own credentials (from its environment, as
# inside Lambda) and returns the result or the error the SDK raised; behind API Gateway it
# answers 200 "called".
CALLER = '''
import json, os
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    if "service" not in event:  # called through API Gateway: a proxy result
        return {"statusCode": 200, "body": "called"}
    client = boto3.session.Session().client(event["service"])
    try:
        result = getattr(client, event["call"])(**event.get("args", {}))
    except ClientError as error:
        return {"ok": False, "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
                "code": error.response["Error"].get("Code"),
                "message": error.response["Error"].get("Message")}
    if "Body" in result:
        result = {"body": result["Body"].read().decode()}
    result.pop("ResponseMetadata", None)
    return {"ok": True, "result": json.loads(json.dumps(result, default=str)),
            "key": os.environ["AWS_ACCESS_KEY_ID"]}
'''

_names = itertools.count()


def unique(prefix: str) -> str:
    return f"iam-{prefix}-{next(_names)}"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def make_role(iam: Any, name: str, *documents: str) -> str:
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])
    for i, document in enumerate(documents):
        iam.put_role_policy(RoleName=name, PolicyName=f"p{i}", PolicyDocument=document)
    return arn


def make_caller(lam: Any, role_arn: str, name: str | None = None) -> str:
    name = name or unique("fn")
    lam.create_function(FunctionName=name, Runtime=LOCAL_RUNTIME, Role=role_arn,
                        Handler="app.handler", Code={"ZipFile": build_zip({"app.py": CALLER})},
                        Timeout=30)
    return name


def call(lam: Any, function: str, service: str, method: str, **args: Any) -> dict[str, Any]:
    """What the function saw when it called ``service.method(**args)``."""
    response = lam.invoke(FunctionName=function, Payload=json.dumps(
        {"service": service, "call": method, "args": args}).encode())
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def denied_message(role: str, function: str, action: str, resource: str | None = None,
                   why: str | None = None, quote: bool = True) -> str:
    """AWS's AccessDenied message for the function's role session."""
    where = ""
    if resource is not None:
        where = f' on resource: "{resource}"' if quote else f" on resource: {resource}"
    why = why or f"because no identity-based policy allows the {action} action"
    return (f"User: arn:aws:sts::123456789012:assumed-role/{role}/{function} is not authorized "
            f"to perform: {action}{where} {why}")
