"""What scenarios share within one run: the endpoint, built packages and deployed stacks.

A stack is deployed once per distinct `StackRequest` and reused; between scenarios only the
objects, buckets and logs a scenario made are removed, and the function gets fresh execution
environments so that the first invocation of every scenario is a cold start.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.apigw.urls import reachable
from harness.deploy import Stack, StackSpec, Target, deploy
from harness.errors import DeployError
from harness.lambda_.logs import Report, parse_report_line
from harness.package import Package, build_package
from harness.scenario.model import FunctionSource, StackRequest, StepError
from harness.scenario.template_stack import TemplateStack, deploy_template_source

_RUN_VARIABLE = "HARNESS_SCENARIO_RUN"


@dataclass
class Made:
    """What one scenario created, so that it can be removed afterwards."""

    buckets: list[tuple[str, str]] = field(default_factory=list)
    """(bucket, region) created by create_bucket steps."""
    objects: list[tuple[str, str, str]] = field(default_factory=list)
    """(bucket, key, region) written by upload steps and property examples."""


class ScenarioSession:
    """Deploys and caches stacks on one endpoint; hands out clients bound to it."""

    def __init__(self, endpoint_url: str | None, build_dir: Path,
                 progress: Callable[[str], None] = lambda _msg: None,
                 s3_endpoint_url: str | None = None, profile: str | None = None) -> None:
        """``endpoint_url`` None is real AWS (boto3 resolves each service, AWS_ENDPOINT_URL
        included); ``s3_endpoint_url`` is S3 served elsewhere (LocalStack)."""
        self.endpoint_url = endpoint_url
        self.s3_endpoint_url = s3_endpoint_url
        self.build_dir = build_dir
        self._progress = progress
        self._profile = profile
        self.target = Target(endpoint_url=endpoint_url, s3_endpoint_url=s3_endpoint_url,
                             profile=profile)
        self._packages: dict[FunctionSource | None, Package] = {}
        self._stacks: dict[str, Stack] = {}
        self._templates: dict[str, TemplateStack] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._runs = 0

    # -- clients -------------------------------------------------------------------------------
    def client(self, service: str, region: str) -> Any:
        """A boto3 client bound to the endpoint, without retries: a step reports what one
        call answered."""
        key = (service, region)
        if key not in self._clients:
            from botocore.config import Config

            target = Target(endpoint_url=self.endpoint_url, profile=self._profile,
                            s3_endpoint_url=self.s3_endpoint_url)
            self._clients[key] = target.client(
                service, region, config=Config(retries={"max_attempts": 1}, read_timeout=960))
        return self._clients[key]

    def faults(self) -> Any:
        """A `harness.faults.client.FaultClient` for the endpoint (the harness emulator only)."""
        from harness.faults.client import FaultClient

        if self.endpoint_url is None:
            raise StepError("fault injection needs the harness emulator, not real AWS")
        return FaultClient(self.endpoint_url)

    # -- packages and stacks -------------------------------------------------------------------
    def package(self, function: FunctionSource | None = None) -> Package:
        if function not in self._packages:
            base = build_package(self.build_dir)
            self._packages[function] = base if function is None else _overlay(base, function)
        return self._packages[function]

    def model_info(self, function: FunctionSource | None = None) -> dict[str, Any]:
        """The model's metadata (n_features, classes, ...) from the package's model.json."""
        try:
            return dict(json.loads((self.package(function).model_dir / "model.json").read_text()))
        except (OSError, ValueError):
            return {}

    def dataset(self, name: str) -> Any:
        import numpy as np

        if name == "iris_holdout":
            return np.load(self.package().holdout_features, allow_pickle=False)
        if name == "iris":
            from sklearn.datasets import load_iris

            return load_iris().data
        raise StepError(f"unknown dataset {name!r}")

    def stack_for(self, request: StackRequest) -> Stack:
        """The deployed stack for ``request``, deploying it the first time it is asked for."""
        if request.template is not None:
            return self.template_for(request).stack
        package = self.package(request.function)
        key = _stack_key(request, package)
        if key not in self._stacks:
            spec = stack_spec(request, key)
            self._progress(f"deploying stack {spec.function_name} ({spec.region})")
            self._stacks[key] = self._reachable(deploy(self.target, spec, package))
        return self._stacks[key]

    def template_for(self, request: StackRequest) -> TemplateStack:
        """The user's template deployed (once per run) with ``harness deploy --template``'s
        code, its logical ids resolved."""
        source = request.template
        assert source is not None
        key = hashlib.sha256(json.dumps(asdict(request), sort_keys=True, default=str)
                             .encode()).hexdigest()[:10]
        if key not in self._templates:
            self._templates[key] = deploy_template_source(
                self.target, source, request.region, default_name=f"harness-scn-{key}",
                progress=self._progress)
        return self._templates[key]

    def template_of(self, request: StackRequest) -> TemplateStack | None:
        """The template stack ``stack_for`` deployed for ``request``, if it is one."""
        return self.template_for(request) if request.template is not None else None

    def spec_for(self, request: StackRequest) -> StackSpec:
        """The spec ``stack_for`` deploys for ``request`` (what a plan shows)."""
        return stack_spec(request, _stack_key(request, self.package(request.function)))

    def deployed(self) -> list[Stack]:
        return list(self._stacks.values()) + [t.stack for t in self._templates.values()]

    def _reachable(self, stack: Stack) -> Stack:
        """On the AWS code path with API Gateway's endpoint overridden (AWS_ENDPOINT_URL at an
        emulator), the API is served there, not at execute-api.amazonaws.com."""
        if self.endpoint_url is not None:
            return stack
        served_by = str(self.client("apigateway", stack.region).meta.endpoint_url)
        return replace(stack, invoke_url=reachable(stack.invoke_url, served_by))

    def fresh_environments(self, stack: Stack, functions: list[str] | None = None) -> None:
        """Make the next invocation a cold start, on any target: a configuration change
        retires the function's execution environments, as it does in AWS. ``functions``:
        every function of a template stack (default: the stack's one)."""
        lam = self.client("lambda", stack.region)
        for name in functions if functions is not None else [stack.function_name]:
            self._runs += 1
            try:
                config = lam.get_function_configuration(FunctionName=name)
                # str(): moto keeps a Number parameter's Ref as a number; Lambda's are strings
                variables = {k: str(v) for k, v in
                             ((config.get("Environment") or {}).get("Variables") or {}).items()}
                variables[_RUN_VARIABLE] = f"{time.time_ns()}-{self._runs}"
                lam.update_function_configuration(FunctionName=name,
                                                  Environment={"Variables": variables})
                lam.get_waiter("function_updated_v2").wait(FunctionName=name)
            except Exception as exc:  # noqa: BLE001 - any failure here is a deploy problem
                raise DeployError(f"could not refresh {name}: {exc}") from None

    # -- clean-up ------------------------------------------------------------------------------
    def clean(self, stack: Stack, made: Made) -> None:
        """Remove what a scenario made: its objects, its buckets, the stack bucket's objects
        and the function's logs. Best effort: a failure here must not hide the result."""
        s3 = self.client("s3", stack.region)
        created = {bucket for bucket, _region in made.buckets}
        for bucket, key, region in made.objects:
            if bucket not in created and bucket != stack.bucket:
                _quietly(self.client("s3", region).delete_object, Bucket=bucket, Key=key)
        empty_bucket(s3, stack.bucket)
        for bucket, region in made.buckets:
            client = self.client("s3", region)
            empty_bucket(client, bucket)
            _quietly(client.delete_bucket, Bucket=bucket)
        _quietly(self.client("logs", stack.region).delete_log_group,
                 logGroupName=f"/aws/lambda/{stack.function_name}")

    # -- REPORT lines --------------------------------------------------------------------------
    def next_report(self, stack: Stack, function_name: str, since_ms: int, seen: set[str],
                    timeout_s: float = 10.0) -> Report | None:
        """The REPORT of the newest invocation since ``since_ms`` not in ``seen`` (CloudWatch
        Logs, so it works on any target); None when none arrives within ``timeout_s``."""
        logs = self.client("logs", stack.region)
        deadline = time.monotonic() + timeout_s
        while True:
            found = [report for report in _reports(logs, function_name, since_ms)
                     if report.request_id not in seen]
            if found:
                seen.update(report.request_id for report in found)
                return found[-1]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)


def stack_spec(request: StackRequest, key: str) -> StackSpec:
    """The deployable spec for a request; names carry the request's hash so that stacks that
    differ never overwrite each other (nor the stack the pytest fixtures deploy)."""
    name = f"harness-scn-{key}"
    bucket = request.bucket or name
    allowed = ",".join(dict.fromkeys([bucket, *request.allowed_buckets]))
    defaults = StackSpec()
    handler = request.function.handler if request.function and request.function.handler \
        else defaults.handler
    return StackSpec(region=request.region, bucket=bucket, function_name=name,
                     api_name=name, handler=handler,
                     memory_mb=request.memory_mb, timeout_s=request.timeout_s,
                     allow_pickle_features=request.allow_pickle_features,
                     upload_trigger=request.upload_trigger,
                     extra_env={"ALLOWED_BUCKETS": allowed, **dict(request.env)},
                     read_buckets=request.readable_buckets)


def _stack_key(request: StackRequest, package: Package) -> str:
    described = json.dumps({"request": asdict(request), "code": package.sha256},
                           sort_keys=True, default=str)
    return hashlib.sha256(described.encode()).hexdigest()[:10]


def _overlay(base: Package, function: FunctionSource) -> Package:
    """The example package with the scenario's files on top (or the files alone)."""
    files = dict(function.files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if function.base == "example":
            with zipfile.ZipFile(io.BytesIO(base.zip_bytes)) as original:
                for info in original.infolist():
                    if info.filename not in files:
                        archive.writestr(info, original.read(info))
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return Package(buffer.getvalue(), base.model_dir, base.holdout_features, base.holdout_labels)


def empty_bucket(s3: Any, bucket: str) -> None:
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    except Exception:  # noqa: BLE001, S110 - the bucket may be gone already
        pass


def _quietly(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except Exception:  # noqa: BLE001, S110 - clean-up is best effort
        pass


def count_reports(logs: Any, function_name: str, since_ms: int) -> int:
    """How many invocations of the function ended since ``since_ms`` (its REPORT lines)."""
    return len(_reports(logs, function_name, since_ms))


def _reports(logs: Any, function_name: str, since_ms: int) -> list[Report]:
    reports = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function_name}", startTime=since_ms)
        for page in pages:
            for event in page.get("events", []):
                report = parse_report_line(event.get("message", ""))
                if report is not None:
                    reports.append((event.get("timestamp", 0), report))
    except Exception:  # noqa: BLE001 - no log group yet: nothing has run
        return []
    return [report for _ts, report in sorted(reports, key=lambda item: item[0])]
