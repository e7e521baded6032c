"""Deploy a template file to any endpoint (the emulator, LocalStack, AWS) with boto3 only.

Local code is packaged the way ``sam deploy`` and ``aws cloudformation package`` do it: each
``CodeUri``/``ContentUri`` that is a path is zipped, uploaded to an artifacts bucket and replaced
by its S3 location; then the stack is created, or updated when it exists, and waited for. For an
emulator on this machine a ``CodeUri``/``ContentUri`` directory is used in place (hot reload), and
an Image function with SAM's build ``Metadata`` is built first, as ``sam build`` builds it
(``harness.templates.images``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import DeployError, UsageError
from harness.templates.errors import TemplateError
from harness.templates.images import ImageBuilder, has_image_uri, image_builds, set_image_uri
from harness.templates.parse import parse_template

# Resource type -> the property that may name local code.
_LOCAL_CODE = {"AWS::Serverless::Function": "CodeUri",
               "AWS::Serverless::LayerVersion": "ContentUri"}
HOT_RELOAD_BUCKET = "hot-reload"
"""LocalStack's magic bucket: Code {S3Bucket: hot-reload, S3Key: /dir} runs /dir in place."""
_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_API_URL = re.compile(r"^https://(?P<api>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com"
                      r"(?P<rest>/.*)?$")
# CloudFormation's limit for TemplateBody; larger templates go by TemplateURL.
MAX_TEMPLATE_BODY = 51_200


@dataclass(frozen=True)
class DeployedStack:
    name: str
    stack_id: str
    status: str
    outputs: dict[str, str]

    def to_json(self) -> str:
        return json.dumps({"stack_name": self.name, "stack_id": self.stack_id,
                           "status": self.status, "outputs": self.outputs}, indent=2)


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """``K=V`` strings (``--parameter``) as a dict; a pair without '=' is a usage error."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--parameter must be KEY=VALUE, got {pair!r}")
        found[key] = value
    return found


def zip_path(path: Path) -> bytes:
    """A directory's files (or one file) as a zip with stable timestamps: same code, same hash."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            name = file.name if path.is_file() else file.relative_to(path).as_posix()
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (os.stat(file).st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()


def local_code(template: dict[str, Any], base: Path) -> dict[tuple[str, str], Path]:
    """(logical id, property) -> local path, for each code location that is not in S3."""
    found = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        prop = _LOCAL_CODE.get(str((resource or {}).get("Type")))
        value = ((resource or {}).get("Properties") or {}).get(prop) if prop else None
        if prop and isinstance(value, str) and not value.startswith("s3://"):
            path = (base / value).resolve()
            if not path.exists():
                raise UsageError(f"{logical_id}.{prop}: {value} does not exist (from {base})")
            found[(logical_id, prop)] = path
    return found


def local_api_url(value: str, endpoint_url: str) -> str | None:
    """An execute-api URL of an output in LocalStack's form on this endpoint, or None."""
    match = _API_URL.match(value)
    if match is None:
        return None
    port = endpoint_url.rsplit(":", 1)[-1].rstrip("/")
    return (f"http://{match.group('api')}.execute-api.localhost.localstack.cloud:{port}"
            f"{match.group('rest') or '/'}")


def _shown(uri: str | dict[str, str]) -> str:
    return uri if isinstance(uri, str) else f"{uri['Key']} (in place, hot reload)"


class TemplateDeployer:
    """Deploys template files through ``client(service)`` (boto3 clients at one target)."""

    def __init__(self, client: Callable[[str], Any], region: str,
                 progress: Callable[[str], None] = lambda _msg: None, *,
                 code_in_place: bool = False, image_builder: ImageBuilder | None = None) -> None:
        self._client = client
        self._region = region
        self._progress = progress
        self._code_in_place = code_in_place
        """A CodeUri or ContentUri directory is used where it is (LocalStack's hot-reload
        bucket) instead of zipped: only for an emulator on this machine, which can read it."""
        self._image_builder = image_builder
        """Builds the images of Image functions with build Metadata: only for an emulator on
        this machine, whose container executor runs them from the same Docker engine."""

    def deploy(self, path: Path, stack_name: str,
               parameters: Mapping[str, str]) -> DeployedStack:
        try:
            text = path.read_text()
        except OSError as error:
            raise UsageError(f"cannot read template {path}: {error.strerror}") from None
        return self.deploy_parsed(parse_template(text), path.parent, stack_name, parameters,
                                  text=text)

    def deploy_parsed(self, template: dict[str, Any], base: Path, stack_name: str,
                      parameters: Mapping[str, str], *, text: str | None = None
                      ) -> DeployedStack:
        """Deploy a template already read (``text``: as written, when unedited); local paths
        are under ``base``; PackageType Image functions with SAM's Metadata are built first."""
        if self._build_images(template, base):
            text = None
        text = json.dumps(template) if text is None else text
        code = local_code(template, base)
        if code:
            zipped = {key: local for key, local in code.items() if not self._in_place(key, local)}
            bucket = self._artifacts_bucket() if zipped else ""
            for (logical_id, prop), local in code.items():
                uri: str | dict[str, str]
                if (logical_id, prop) in zipped:
                    uri = self._upload(bucket, zip_path(local))
                else:
                    uri = {"Bucket": HOT_RELOAD_BUCKET, "Key": str(local)}
                template["Resources"][logical_id]["Properties"][prop] = uri
                self._progress(f"{logical_id}: {local} -> {_shown(uri)}")
            text = json.dumps(template)
        return self._create_or_update(stack_name, text, dict(parameters))

    def _build_images(self, template: dict[str, Any], base: Path) -> bool:
        """Build each Image function's image from its Metadata and set its ImageUri; without a
        builder, an ImageUri already in the template is deployed as it is."""
        built = False
        for build in image_builds(template, base):
            if self._image_builder is None:
                if has_image_uri(template, build.logical_id):
                    continue
                raise UsageError(
                    f"{build.logical_id}: a PackageType Image function is built from its "
                    "Metadata only for an emulator on this machine; for this endpoint build and "
                    "push the image (sam build, then sam deploy --image-repository) and set its "
                    "ImageUri")
            self._progress(f"{build.logical_id}: docker build {build.context / build.dockerfile}"
                           f" -t {build.tag}")
            uri = self._image_builder(build)
            set_image_uri(template, build.logical_id, uri)
            self._progress(f"{build.logical_id}: ImageUri {uri}")
            built = True
        return built

    def _in_place(self, key: tuple[str, str], local: Path) -> bool:
        return self._code_in_place and local.is_dir()

    def delete(self, name: str, timeout_s: float = 1800.0) -> str:
        """Delete stack ``name`` and wait for DELETE_COMPLETE, each resource's event as progress.

        A stack that does not exist (or is already deleted) is a ``DeployError`` naming it."""
        from botocore.exceptions import ClientError

        cfn = self._client("cloudformation")
        try:
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as error:
            raise DeployError(f"stack {name}: {error.response['Error'].get('Message', error)}"
                              ) from None
        stack_id = stack["StackId"]
        seen = {e["EventId"] for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]}
        self._progress(f"stack {name} ({stack['StackStatus']})")
        cfn.delete_stack(StackName=stack_id)
        deadline = time.monotonic() + timeout_s
        while True:
            status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
            seen |= self._report_events(stack_id, seen)
            if status == "DELETE_COMPLETE":
                return status
            if status == "DELETE_FAILED" or time.monotonic() > deadline:
                raise DeployError(f"stack {name}: {status}: {self._failure_reason(stack_id)}")
            time.sleep(1.0)  # CloudFormation's own waiters poll; this one reports as it goes

    def _report_events(self, stack_id: str, seen: set[str]) -> set[str]:
        events = self._client("cloudformation").describe_stack_events(
            StackName=stack_id)["StackEvents"]
        new = [e for e in reversed(events) if e["EventId"] not in seen]  # oldest first
        for event in new:
            reason = event.get("ResourceStatusReason")
            self._progress(f"{event['LogicalResourceId']}: {event['ResourceStatus']}"
                           f"{f' ({reason})' if reason else ''}")
        return {e["EventId"] for e in new}

    def _artifacts_bucket(self) -> str:
        bucket = self.artifacts_bucket_name()
        s3 = self._client("s3")
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception:
            extra = ({} if self._region == "us-east-1" else
                     {"CreateBucketConfiguration": {"LocationConstraint": self._region}})
            s3.create_bucket(Bucket=bucket, **extra)
        return bucket

    def upload(self, body: bytes, prefix: str = "") -> str:
        """Put a zip into the artifacts bucket (made if missing) as ``sam deploy`` does, under
        ``prefix/`` (sam's ``--s3-prefix``); its ``s3://`` location, named by its hash so that
        the same code is the same location."""
        return self._upload(self._artifacts_bucket(), body, prefix)

    def artifacts_bucket_name(self) -> str:
        account = self._client("sts").get_caller_identity()["Account"]
        return f"harness-artifacts-{account}-{self._region}"

    def status(self, name: str) -> str | None:
        """Stack ``name``'s status, or None when there is no such stack."""
        return self._status(name)

    def _upload(self, bucket: str, body: bytes, prefix: str = "") -> str:
        key = f"{prefix}/" * bool(prefix) + f"{hashlib.sha256(body).hexdigest()}.zip"
        self._client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def _create_or_update(self, name: str, text: str,
                          parameters: dict[str, str]) -> DeployedStack:
        from botocore.exceptions import ClientError, WaiterError

        if len(text.encode()) > MAX_TEMPLATE_BODY:
            raise UsageError(f"the template is {len(text.encode())} bytes once packaged; over "
                             f"CloudFormation's {MAX_TEMPLATE_BODY} for a TemplateBody")
        cfn = self._client("cloudformation")
        args: dict[str, Any] = {
            "StackName": name, "TemplateBody": text, "Capabilities": _CAPABILITIES,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v}
                           for k, v in parameters.items()]}
        try:
            status = self._status(name)
            if status == "ROLLBACK_COMPLETE":  # a failed create: CloudFormation wants it gone
                self._progress(f"deleting stack {name} (ROLLBACK_COMPLETE) before creating it")
                cfn.delete_stack(StackName=name)
                cfn.get_waiter("stack_delete_complete").wait(
                    StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 900})
                status = None
            if status not in (None, "DELETE_COMPLETE"):
                self._progress(f"updating stack {name}")
                try:
                    cfn.update_stack(**args)
                except ClientError as error:
                    if "No updates are to be performed" not in str(error):
                        raise
                    self._progress(f"stack {name}: no changes")
                    return self._described(name)
                waiter = "stack_update_complete"
            else:
                self._progress(f"creating stack {name}")
                cfn.create_stack(**args)
                waiter = "stack_create_complete"
            cfn.get_waiter(waiter).wait(StackName=name,
                                        WaiterConfig={"Delay": 2, "MaxAttempts": 900})
        except WaiterError:
            raise DeployError(f"stack {name}: {self._status(name)}: "
                              f"{self._failure_reason(name)}") from None
        except ClientError as error:
            raise DeployError(f"stack {name}: {error.response['Error'].get('Message', error)}"
                              ) from None
        except TemplateError as error:
            raise DeployError(f"stack {name}: {error.message}") from None
        return self._described(name)

    def _status(self, name: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            stacks = self._client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError:
            return None
        return str(stacks[0]["StackStatus"]) if stacks else None

    def _failure_reason(self, name: str) -> str:
        events = self._client("cloudformation").describe_stack_events(
            StackName=name)["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
        if not failed:
            return "no failure reported"
        first = failed[-1]  # events come newest first: the first failure is the last listed
        return f"{first['LogicalResourceId']}: {first.get('ResourceStatusReason', '')}"

    def _described(self, name: str) -> DeployedStack:
        stack = self._client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
        return DeployedStack(name, stack["StackId"], stack["StackStatus"], outputs)
