"""Deploys the example stack with boto3 calls only, to any endpoint: embedded, LocalStack or AWS.

Stack: an S3 bucket, an IAM role, the function (zip built from lambda_fn/), and a REST API with
POST /predict behind an AWS_PROXY integration, deployed to a stage. Running it twice is safe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import DeployError
from harness.package import Package

_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class StackSpec:
    """What to deploy; the defaults follow the seed (a bucket in eu-west-2)."""

    region: str = "eu-west-2"
    bucket: str = "harness-ml-data"
    function_name: str = "harness-predict"
    role_name: str = "harness-predict-role"
    api_name: str = "harness-predict-api"
    stage: str = "dev"
    route: str = "predict"
    runtime: str = "python3.12"
    handler: str = "handler.lambda_handler"
    memory_mb: int = 512
    timeout_s: int = 30
    allow_pickle_features: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    image_uri: str | None = None
    """Deploy the function as PackageType=Image from this image instead of the zip package."""
    read_buckets: tuple[str, ...] = ()
    """Buckets besides ``bucket`` whose objects the function's role may read. A bucket the
    function accepts (ALLOWED_BUCKETS) but its role may not read answers AccessDenied."""


@dataclass(frozen=True)
class Stack:
    """What was deployed, as ``harness deploy`` prints it."""

    invoke_url: str
    bucket: str
    function_name: str
    function_arn: str
    api_id: str
    stage: str
    region: str
    endpoint_url: str | None
    s3_endpoint_url: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


@dataclass(frozen=True)
class Target:
    """Where to deploy: an endpoint (embedded, LocalStack), or real AWS when ``endpoint_url`` is
    None."""

    endpoint_url: str | None = None
    profile: str | None = None
    s3_endpoint_url: str | None = None
    """S3 served elsewhere (LocalStack's, in docker-compose.yml): the bucket is made there and the
    function is pointed at it with AWS_ENDPOINT_URL_S3."""

    def client(self, service: str, region: str, config: Any = None) -> Any:
        """A boto3 client for ``service`` at this target (S3 at ``s3_endpoint_url`` if set)."""
        import boto3

        session = boto3.session.Session(profile_name=self.profile, region_name=region)
        kwargs: dict[str, Any] = {"region_name": region}
        if config is not None:
            kwargs["config"] = config
        endpoint = self.s3_endpoint_url if service == "s3" and self.s3_endpoint_url else \
            self.endpoint_url
        if endpoint is not None:
            kwargs["endpoint_url"] = endpoint
            if session.get_credentials() is None:
                kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")
        return session.client(service, **kwargs)


@contextmanager
def _step(name: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise DeployError(
            f"{name}: {err.get('Code', 'Error')}: {err.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise DeployError(f"{name}: {exc}") from None


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except Exception as exc:  # noqa: BLE001 - only "already yours" is fine
        if _error_code(exc) != "BucketAlreadyOwnedByYou":
            raise


def ensure_role(iam: Any, spec: StackSpec) -> str:
    try:
        arn = str(iam.get_role(RoleName=spec.role_name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        arn = str(iam.create_role(RoleName=spec.role_name,
                                  AssumeRolePolicyDocument=json.dumps(_TRUST_POLICY))["Role"]["Arn"])
    # Every time: a role made by an older deploy gets today's (narrower) policy. Named after
    # the function: stacks that share a role (the scenarios') each keep their own.
    iam.put_role_policy(RoleName=spec.role_name, PolicyName=spec.function_name,
                        PolicyDocument=json.dumps(_role_policy(spec)))
    return arn


def _role_policy(spec: StackSpec) -> dict[str, Any]:
    """Only what the function does: read objects of the data bucket, and write its own logs.

    s3:ListBucket on the bucket itself is what makes S3 answer a missing key with 404 NoSuchKey
    (without it AWS answers 403 AccessDenied). Inline rather than AWSLambdaBasicExecutionRole,
    which would let it write every log group, and which not every emulator carries.
    """
    log_group = f"arn:aws:logs:{spec.region}:*:log-group:/aws/lambda/{spec.function_name}"
    buckets = list(dict.fromkeys([spec.bucket, *spec.read_buckets]))
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadFeatures", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": [f"arn:aws:s3:::{bucket}/*" for bucket in buckets]},
        {"Sid": "TellMissingKeys", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": [f"arn:aws:s3:::{bucket}" for bucket in buckets]},
        {"Sid": "WriteOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [log_group, f"{log_group}:*"]},
    ]}


def ensure_function(lam: Any, spec: StackSpec, role_arn: str, package: Package) -> str:
    env = {"ALLOWED_BUCKETS": spec.bucket,
           "ALLOW_PICKLE_FEATURES": "1" if spec.allow_pickle_features else "0",
           **spec.extra_env}
    config: dict[str, Any] = dict(Role=role_arn, MemorySize=spec.memory_mb,
                                  Timeout=spec.timeout_s, Environment={"Variables": env})
    if spec.image_uri is None:  # an image names its runtime and handler itself
        config.update(Runtime=spec.runtime, Handler=spec.handler)
    try:
        current = lam.get_function(FunctionName=spec.function_name)["Configuration"]
    except lam.exceptions.ResourceNotFoundException:
        code, kind = _code_of(spec, package)
        created = lam.create_function(FunctionName=spec.function_name, Code=code,
                                      PackageType=kind, **config)
        lam.get_waiter("function_active_v2").wait(FunctionName=spec.function_name)
        return str(created["FunctionArn"])
    if spec.image_uri is not None:
        # Always: the same tag may name a rebuilt image, which AWS resolves to a new digest.
        lam.update_function_code(FunctionName=spec.function_name, ImageUri=spec.image_uri)
        lam.get_waiter("function_updated_v2").wait(FunctionName=spec.function_name)
    elif current.get("CodeSha256") != _b64_sha256(package.zip_bytes):
        lam.update_function_code(FunctionName=spec.function_name, ZipFile=package.zip_bytes)
        lam.get_waiter("function_updated_v2").wait(FunctionName=spec.function_name)
    lam.update_function_configuration(FunctionName=spec.function_name, **config)
    lam.get_waiter("function_updated_v2").wait(FunctionName=spec.function_name)
    return str(current["FunctionArn"])


def _code_of(spec: StackSpec, package: Package) -> tuple[dict[str, Any], str]:
    if spec.image_uri is not None:
        return {"ImageUri": spec.image_uri}, "Image"
    return {"ZipFile": package.zip_bytes}, "Zip"


def _b64_sha256(data: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _find_api(apigw: Any, name: str) -> str | None:
    for page in apigw.get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("name") == name:
                return str(api["id"])
    return None


def ensure_api(apigw: Any, spec: StackSpec, function_arn: str) -> str:
    api_id = _find_api(apigw, spec.api_name)
    if api_id is None:
        api_id = str(apigw.create_rest_api(name=spec.api_name,
                                           endpointConfiguration={"types": ["REGIONAL"]})["id"])
    resources = apigw.get_resources(restApiId=api_id, limit=500)["items"]
    root = next(r["id"] for r in resources if r["path"] == "/")
    route = next((r for r in resources if r["path"] == f"/{spec.route}"), None)
    if route is None:
        route = apigw.create_resource(restApiId=api_id, parentId=root, pathPart=spec.route)
    if "POST" not in (route.get("resourceMethods") or {}):
        apigw.put_method(restApiId=api_id, resourceId=route["id"], httpMethod="POST",
                         authorizationType="NONE")
    uri = (f"arn:aws:apigateway:{spec.region}:lambda:path/2015-03-31/functions/"
           f"{function_arn}/invocations")
    apigw.put_integration(restApiId=api_id, resourceId=route["id"], httpMethod="POST",
                          type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    apigw.create_deployment(restApiId=api_id, stageName=spec.stage)
    return api_id


def allow_api_to_invoke(lam: Any, spec: StackSpec, api_id: str, account: str) -> None:
    try:
        lam.add_permission(
            FunctionName=spec.function_name, StatementId="harness-apigateway-invoke",
            Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{spec.region}:{account}:{api_id}/*/POST/{spec.route}")
    except lam.exceptions.ResourceConflictException:
        pass


def invoke_url(target: Target, spec: StackSpec, api_id: str) -> str:
    if target.endpoint_url is not None:
        base = target.endpoint_url.rstrip("/")
        return f"{base}/_aws/execute-api/{api_id}/{spec.stage}/{spec.route}"
    return f"https://{api_id}.execute-api.{spec.region}.amazonaws.com/{spec.stage}/{spec.route}"


def deploy(target: Target, spec: StackSpec, package: Package,
           progress: Callable[[str], None] = lambda _msg: None) -> Stack:
    """Create or update the whole stack; returns where it can be reached."""
    if target.s3_endpoint_url:
        spec = replace(spec, extra_env={**spec.extra_env,
                                        "AWS_ENDPOINT_URL_S3": target.s3_endpoint_url})
    s3, iam = target.client("s3", spec.region), target.client("iam", spec.region)
    lam, apigw = target.client("lambda", spec.region), target.client("apigateway", spec.region)
    progress(f"bucket {spec.bucket} ({spec.region})")
    with _step(f"create bucket {spec.bucket}"):
        ensure_bucket(s3, spec.bucket, spec.region)
    progress(f"role {spec.role_name}")
    with _step(f"create role {spec.role_name}"):
        role_arn = ensure_role(iam, spec)
    code = f"image {spec.image_uri}" if spec.image_uri else f"{len(package.zip_bytes)} byte package"
    progress(f"function {spec.function_name} ({code})")
    with _step(f"deploy function {spec.function_name}"):
        function_arn = ensure_function(lam, spec, role_arn, package)
    progress(f"REST API {spec.api_name}: POST /{spec.route} -> {spec.function_name}")
    with _step(f"deploy API {spec.api_name}"):
        api_id = ensure_api(apigw, spec, function_arn)
        allow_api_to_invoke(lam, spec, api_id, function_arn.split(":")[4])
    return Stack(invoke_url=invoke_url(target, spec, api_id), bucket=spec.bucket,
                 function_name=spec.function_name, function_arn=function_arn, api_id=api_id,
                 stage=spec.stage, region=spec.region, endpoint_url=target.endpoint_url,
                 s3_endpoint_url=target.s3_endpoint_url)


def default_build_dir() -> Path:
    from harness.config import EmulatorConfig

    return EmulatorConfig.from_env().state_dir / "build"
