"""Deploys the example stack, ``lambda_fn/template.yaml``, to any endpoint (embedded, LocalStack,
AWS) through CloudFormation, with the template deployer of ``harness deploy --template``.

The function's zip (harness/package.py) goes to the artifacts bucket under the stack's name, as
``sam deploy`` puts it; a `StackSpec` becomes the template's parameters, and what only the
function's code decides (handler, runtime, extra variables, a container image) an edit of the
function's properties. Running it twice is safe: an unchanged stack is left as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.apigw.urls import reachable
from harness.errors import DeployError
from harness.package import Package
from harness.templates.deployer import TemplateDeployer
from harness.templates.parse import parse_template

EXAMPLE_TEMPLATE = Path(__file__).resolve().parent.parent / "lambda_fn" / "template.yaml"
"""The example stack's SAM template: what every command deploys and what ships."""
FUNCTION_ID = "PredictFunction"
BUCKET_ID = "DataBucket"
ROUTE = "predict"
"""The template's one route, POST /predict."""
_OUTPUTS = ("InvokeUrl", "BucketName", "FunctionName", "FunctionArn", "ApiId", "StageName")
_MAX_ROLE_NAME = 64  # IAM's limit
_NOT_STACK_NAME = re.compile(r"[^A-Za-z0-9-]")


@dataclass(frozen=True)
class StackSpec:
    """What to deploy; the defaults follow the seed (a bucket in eu-west-2)."""

    region: str = "eu-west-2"
    bucket: str = "harness-ml-data"
    function_name: str = "harness-predict"
    role_name: str | None = None
    """The function's IAM role; None: ``<function_name>-role``."""
    api_name: str = "harness-predict-api"
    stage: str = "dev"
    route: str = ROUTE
    runtime: str = "python3.12"
    handler: str = "handler.lambda_handler"
    memory_mb: int = 512
    timeout_s: int = 30
    allow_pickle_features: bool = False
    upload_trigger: bool = False
    """An upload under features/ triggers the function, which writes under predictions/."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """Variables added to the template's (ALLOWED_BUCKETS and ALLOW_PICKLE_FEATURES), or
    replacing them."""
    image_uri: str | None = None
    """Deploy the function as PackageType=Image from this image instead of the zip package."""
    stack_name: str | None = None
    """The CloudFormation stack; None: named after the function."""
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
    stack_name: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


@dataclass(frozen=True)
class Target:
    """Where to deploy: an endpoint (embedded, LocalStack), or real AWS when ``endpoint_url`` is
    None."""

    endpoint_url: str | None = None
    profile: str | None = None
    s3_endpoint_url: str | None = None
    """S3 served elsewhere (LocalStack's, in docker-compose.yml): the data bucket is made there
    and the function is pointed at it with AWS_ENDPOINT_URL_S3; the stack and its artifacts stay
    at ``endpoint_url``."""

    def client(self, service: str, region: str, config: Any = None) -> Any:
        """A boto3 client for ``service`` at this target (S3 at ``s3_endpoint_url`` if set)."""
        return self._client_in(self._session(region), service, region, config)

    def clients(self, region: str) -> Callable[[str], Any]:
        """``client(service)`` at this target, each made once from one boto3 session: a
        session and a client cost ~0.1 s each, and a deploy asks for CloudFormation's often."""
        session = self._session(region)
        made: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in made:
                made[service] = self._client_in(session, service, region)
            return made[service]

        return client

    def _session(self, region: str) -> Any:
        import boto3

        return boto3.session.Session(profile_name=self.profile, region_name=region)

    def _client_in(self, session: Any, service: str, region: str, config: Any = None) -> Any:
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

    def stack_side(self) -> Target:
        """Where CloudFormation, its artifacts and every resource but the data bucket are."""
        return Target(endpoint_url=self.endpoint_url, profile=self.profile)


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


def role_name_of(spec: StackSpec) -> str:
    return spec.role_name or f"{spec.function_name}-role"


def stack_name_of(spec: StackSpec) -> str:
    """The stack's name: given, else the function's, in CloudFormation's alphabet."""
    if spec.stack_name:
        return spec.stack_name
    name = _NOT_STACK_NAME.sub("-", spec.function_name)
    return (name if name[:1].isalpha() else f"harness-{name}")[:128]


def check_spec(spec: StackSpec) -> None:
    """What the template cannot express, refused before anything is made."""
    if spec.route != ROUTE:
        raise DeployError(f"the example template serves POST /{ROUTE}, not /{spec.route}")
    if len(role_name_of(spec)) > _MAX_ROLE_NAME:
        raise DeployError(f"role name {role_name_of(spec)!r} is longer than IAM's "
                          f"{_MAX_ROLE_NAME} characters: give a shorter role_name")


def stack_parameters(spec: StackSpec, *, create_bucket: bool) -> dict[str, str]:
    """The template's parameters for ``spec``."""
    return {"BucketName": spec.bucket, "CreateBucket": _flag(create_bucket),
            "FunctionName": spec.function_name, "RoleName": role_name_of(spec),
            "ApiName": spec.api_name, "StageName": spec.stage,
            "MemorySize": str(spec.memory_mb), "Timeout": str(spec.timeout_s),
            "AllowPickleFeatures": _flag(spec.allow_pickle_features),
            "UploadTrigger": _flag(spec.upload_trigger),
            "ReadBuckets": ",".join(b for b in dict.fromkeys(spec.read_buckets)
                                    if b != spec.bucket)}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def example_template(spec: StackSpec, code_uri: str | None,
                     env: Mapping[str, str]) -> dict[str, Any]:
    """The example template with the function's code (``code_uri``, or ``spec.image_uri``),
    handler, runtime and ``env`` on top of its own variables."""
    template = parse_template(EXAMPLE_TEMPLATE.read_text(encoding="utf-8"))
    function = template["Resources"][FUNCTION_ID]["Properties"]
    if spec.image_uri is not None:  # an image names its runtime and handler itself
        for key in ("CodeUri", "Handler", "Runtime"):
            function.pop(key, None)
        function.update(PackageType="Image", ImageUri=spec.image_uri)
    else:
        function.update(CodeUri=code_uri, Handler=spec.handler, Runtime=spec.runtime)
    function["Environment"]["Variables"].update(env)
    return template


def stack_resources(client: Callable[[str], Any], name: str) -> dict[str, tuple[str, str]] | None:
    """Logical id -> (type, physical id) of stack ``name``'s live resources; None when there is
    no live stack of that name (none, deleted, or a failed create waiting to be deleted)."""
    from botocore.exceptions import ClientError

    cfn = client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    if not stacks or stacks[0]["StackStatus"] in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
        return None
    listed = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId", ""))
            for r in listed if r.get("ResourceStatus") != "DELETE_COMPLETE"}


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except Exception as exc:  # noqa: BLE001 - only "already yours" is fine
        if _error_code(exc) != "BucketAlreadyOwnedByYou":
            raise


def stack_owns_bucket(target: Target, spec: StackSpec, s3: Any,
                      existing: Mapping[str, tuple[str, str]] | None) -> bool:
    """Whether the stack makes the data bucket. Not when S3 is served elsewhere (it is made
    there), nor when the bucket exists outside the stack (an earlier deploy's, or the user's
    data): it is used as it is, as the deploy always has. ``s3``: the stack side's."""
    if target.s3_endpoint_url:
        ensure_bucket(target.client("s3", spec.region), spec.bucket, spec.region)
        return False
    if existing is not None and BUCKET_ID in existing:
        return True
    return not bucket_exists(s3, spec.bucket)


def bucket_exists(s3: Any, bucket: str) -> bool:
    """True when HeadBucket answers 200 (a bucket of another account answers 403: False, and
    CloudFormation's CreateBucket then says it exists)."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def deploy(target: Target, spec: StackSpec, package: Package,
           progress: Callable[[str], None] = lambda _msg: None) -> Stack:
    """Create or update the example stack from its template; returns where it can be reached."""
    check_spec(spec)
    client = target.stack_side().clients(spec.region)
    name = stack_name_of(spec)
    deployer = TemplateDeployer(client, spec.region, progress)
    with _step(f"read stack {name}"):
        existing = stack_resources(client, name)
    with _step(f"create bucket {spec.bucket}"):
        owned = stack_owns_bucket(target, spec, client("s3"), existing)
    where = "" if owned else (" at " + target.s3_endpoint_url if target.s3_endpoint_url
                              else ", exists: used as it is, outside the stack")
    progress(f"bucket {spec.bucket} ({spec.region}{where})")
    code_uri = _code(deployer, spec, package, name, progress)
    progress(f"REST API {spec.api_name}: POST /{ROUTE} -> {spec.function_name}, "
             f"stage {spec.stage}")
    env = dict(spec.extra_env)
    if target.s3_endpoint_url:
        env["AWS_ENDPOINT_URL_S3"] = target.s3_endpoint_url
    deployed = deployer.deploy_parsed(example_template(spec, code_uri, env),
                                      EXAMPLE_TEMPLATE.parent, name,
                                      stack_parameters(spec, create_bucket=owned))
    if spec.image_uri is not None and existing is not None:
        _refresh_image(client("lambda"), spec)
        progress(f"function {spec.function_name}: image {spec.image_uri} updated")
    return stack_of(deployed.outputs, name, target, spec.region)


def _code(deployer: TemplateDeployer, spec: StackSpec, package: Package, name: str,
          progress: Callable[[str], None]) -> str | None:
    """The package's S3 location once uploaded (None for an image)."""
    if spec.image_uri is not None:
        progress(f"function {spec.function_name} (image {spec.image_uri})")
        return None
    with _step("upload the function's package"):
        uri = deployer.upload(package.zip_bytes, prefix=name)
    progress(f"function {spec.function_name} ({len(package.zip_bytes)} byte package, {uri})")
    return uri


def _refresh_image(lam: Any, spec: StackSpec) -> None:
    """Always, on an update: the same tag may name a rebuilt image, which AWS resolves to a new
    digest only when the code is updated (CloudFormation sees an unchanged ImageUri)."""
    with _step(f"update function {spec.function_name}'s image"):
        lam.update_function_code(FunctionName=spec.function_name, ImageUri=spec.image_uri)
        lam.get_waiter("function_updated_v2").wait(FunctionName=spec.function_name)


def stack_of(outputs: Mapping[str, str], name: str, target: Target, region: str) -> Stack:
    """The `Stack` the template's outputs describe; the invoke URL as the target's endpoint
    serves it (AWS's form without one)."""
    missing = [key for key in _OUTPUTS if key not in outputs]
    if missing:
        raise DeployError(f"stack {name} has no output {missing[0]} (is it the example "
                          "stack, from lambda_fn/template.yaml?)")
    url = outputs["InvokeUrl"]
    return Stack(invoke_url=reachable(url, target.endpoint_url) if target.endpoint_url else url,
                 bucket=outputs["BucketName"], function_name=outputs["FunctionName"],
                 function_arn=outputs["FunctionArn"], api_id=outputs["ApiId"],
                 stage=outputs["StageName"], region=region, endpoint_url=target.endpoint_url,
                 s3_endpoint_url=target.s3_endpoint_url, stack_name=name)


def default_build_dir() -> Path:
    from harness.config import EmulatorConfig

    return EmulatorConfig.from_env().state_dir / "build"
