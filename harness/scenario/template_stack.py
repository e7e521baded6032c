"""Scenarios against the user's own stack: ``stack: {template: path, parameters: {...}}``.

What a template declares is read without deploying it (the checks a file gets before anything
starts), and a deployed stack's logical ids are resolved through DescribeStackResources to the
function names and API URLs the steps call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.apigw.urls import execute_api_url, reachable
from harness.deploy import Stack, Target
from harness.errors import DeployError, UsageError
from harness.scenario.model import StepError, TemplateSource
from harness.templates.deployer import TemplateDeployer
from harness.templates.errors import TemplateError
from harness.templates.parse import parse_template
from harness.templates.sam import is_sam, sam_transform

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::Serverless::Api",
             "AWS::Serverless::HttpApi")
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
__all__ = ["TemplateFacts", "TemplateSource", "TemplateStack", "deploy_template_source",
           "describe", "execute_api_url", "reachable", "read_facts"]
_PLACEHOLDER_ACCOUNT = "123456789012"  # only for reading the template, never deployed


@dataclass(frozen=True)
class TemplateFacts:
    """What a template declares: logical id -> type (after the SAM transform), outputs,
    parameters."""

    resources: dict[str, str]
    outputs: tuple[str, ...]
    parameters: tuple[str, ...]

    def ids_of(self, types: tuple[str, ...]) -> list[str]:
        return sorted(i for i, kind in self.resources.items() if kind in types)


def read_facts(path: Path, parameters: Mapping[str, str], region: str) -> TemplateFacts:
    """The template's ids, outputs and parameters; TemplateError or OSError when unreadable."""
    template = parse_template(path.read_text(encoding="utf-8"))
    declared = tuple((template.get("Parameters") or {}).keys())
    outputs = tuple((template.get("Outputs") or {}).keys())
    if is_sam(template):
        values = {**{k: str((v or {}).get("Default", "")) for k, v in
                     (template.get("Parameters") or {}).items()}, **parameters}
        for resource in (template.get("Resources") or {}).values():
            props = (resource or {}).get("Properties") or {}
            for key in ("CodeUri", "ContentUri"):  # local paths: packaged at deploy time
                if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                    props[key] = "s3://packaged-at-deploy/code.zip"
        template = sam_transform(template, values, region=region,
                                 account_id=_PLACEHOLDER_ACCOUNT)
    resources = {str(k): str((v or {}).get("Type", "")) for k, v in
                 (template.get("Resources") or {}).items()}
    return TemplateFacts(resources, outputs, declared)


def stack_name_problem(name: str) -> str | None:
    if _STACK_NAME.fullmatch(name):
        return None
    return (f"not a stack name: {name!r} (letters, digits and '-', starting with a letter, "
            "at most 128)")


@dataclass(frozen=True)
class TemplateStack:
    """A deployed template stack: its outputs and logical id -> (type, physical id)."""

    name: str
    region: str
    outputs: dict[str, str]
    resources: dict[str, tuple[str, str]]
    stack: Stack
    """The stack as the example stack's code paths see it (clean-up, REPORT lines)."""
    stages: dict[str, list[str]] = field(default_factory=dict)
    """API logical id -> its stage names."""

    def ids_of(self, types: tuple[str, ...]) -> list[str]:
        return sorted(i for i, (kind, _p) in self.resources.items() if kind in types)

    @property
    def physical_ids(self) -> dict[str, str]:
        """Logical id -> physical id, as DescribeStackResources lists them."""
        return {logical: physical for logical, (_kind, physical) in self.resources.items()}

    def functions(self) -> list[str]:
        return [self.resources[i][1] for i in self.ids_of(FUNCTION_TYPES)]

    def function(self, given: str | None) -> str:
        """The function a step names: a logical id, a physical name or ARN of the stack's."""
        ids = self.ids_of(FUNCTION_TYPES)
        if given is None:
            if len(ids) == 1:
                return self.resources[ids[0]][1]
            raise StepError(f"stack {self.name} has {len(ids)} functions ({', '.join(ids)}); "
                            "name one with function: <logical id>")
        if given in ids:
            return self.resources[given][1]
        if given in self.functions() or given.startswith("arn:"):
            return given
        raise StepError(f"no function {given!r} in stack {self.name} (its functions: "
                        f"{', '.join(ids) or 'none'})")

    def api_url(self, given: str | None, path: str, stage: str | None, served_by: str) -> str:
        """The URL of ``path`` on an API of the stack (``given``: its logical id)."""
        ids = self.ids_of(API_TYPES)
        if given is None:
            if len(ids) != 1:
                raise StepError(f"stack {self.name} has {len(ids)} APIs ({', '.join(ids)}); "
                                "name one with api: <logical id>")
            given = ids[0]
        if given not in ids:
            raise StepError(f"no API {given!r} in stack {self.name} (its APIs: "
                            f"{', '.join(ids) or 'none'})")
        api_id = self.resources[given][1]
        stages = self.stages.get(given, [])
        if stage is None:
            if len(stages) != 1:
                raise StepError(f"API {given} has {len(stages)} stages ({', '.join(stages)}); "
                                "name one with stage:")
            stage = stages[0]
        return execute_api_url(served_by, api_id, stage, self.region, path)


def describe(client: Callable[[str], Any], name: str, region: str,
             endpoint_url: str | None, outputs: dict[str, str]) -> TemplateStack:
    """The deployed stack's resources (DescribeStackResources) and API stages."""
    listed = client("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
    resources = {r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId", ""))
                 for r in listed}
    # SAM's deployment also makes a stage named "Stage" that no Stage resource declares (as on
    # AWS): the stack's own Stage resources say which stages are the template's.
    declared = {p for _l, (k, p) in resources.items()
                if k in ("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage")}
    stages: dict[str, list[str]] = {}
    for logical, (kind, physical) in resources.items():
        if kind == "AWS::ApiGateway::RestApi":
            found = [s["stageName"] for s in
                     client("apigateway").get_stages(restApiId=physical).get("item", [])]
        elif kind == "AWS::ApiGatewayV2::Api":
            found = [s["StageName"] for s in
                     client("apigatewayv2").get_stages(ApiId=physical).get("Items", [])]
        else:
            continue
        stages[logical] = sorted(n for n in found if n in declared) or sorted(found)
    functions = sorted(p for _l, (k, p) in resources.items() if k in FUNCTION_TYPES)
    buckets = sorted(p for _l, (k, p) in resources.items() if k == "AWS::S3::Bucket")
    apis = sorted(p for _l, (k, p) in resources.items() if k in API_TYPES)
    compat = Stack(invoke_url="", bucket=buckets[0] if buckets else "",
                   function_name=functions[0] if functions else "", function_arn="",
                   api_id=apis[0] if apis else "", stage="", region=region,
                   endpoint_url=endpoint_url)
    served_by = str(client("apigateway").meta.endpoint_url)
    shown = {key: reachable(value, served_by) for key, value in outputs.items()}
    return TemplateStack(name, region, shown, resources, compat, stages)


def template_error(error: TemplateError | OSError, path: Path) -> str:
    if isinstance(error, OSError):
        return f"cannot read template {path}: {error.strerror}"
    return f"template {path}: {error.message}"


def deploy_template_source(target: Target, source: TemplateSource, region: str,
                           default_name: str = "harness-test",
                           progress: Callable[[str], None] = lambda _msg: None
                           ) -> TemplateStack:
    """Deploy ``source`` with ``harness deploy --template``'s code and describe it; its name is
    ``source.name``, else ``<default_name>-<directory>``. Parameters the template does not
    declare are a UsageError naming the ones it does."""
    try:
        facts = read_facts(source.path, dict(source.parameters), region)
    except (TemplateError, OSError) as error:
        raise UsageError(template_error(error, source.path)) from None
    unknown = [key for key, _value in source.parameters if key not in facts.parameters]
    if unknown:
        raise UsageError(f"template {source.path} has no parameter {unknown[0]!r} (its "
                         f"parameters: {', '.join(facts.parameters) or 'none'})")
    base = "".join(c if c.isalnum() else "-" for c in source.path.parent.name).strip("-")
    name = source.name or f"{default_name}-{base or 'app'}"[:128]

    def client(service: str) -> Any:
        return target.client(service, region)

    deployed = TemplateDeployer(client, region, progress).deploy(
        source.path, name, dict(source.parameters))
    try:
        return describe(client, name, region, target.endpoint_url, deployed.outputs)
    except Exception as exc:  # noqa: BLE001 - boto's errors: the stack is unusable
        raise DeployError(f"stack {name}: cannot list its resources: {exc}") from None
