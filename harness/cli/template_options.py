"""``--template``, ``--stack-name`` and ``--parameter`` of ``harness deploy`` and ``harness up``."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from urllib.parse import urlsplit

from harness.container.images import EngineImageBuilder
from harness.deploy import Target
from harness.templates.deployer import (
    DeployedStack,
    TemplateDeployer,
    local_api_url,
    parse_parameters,
)


def add_template_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", type=Path, default=None, metavar="PATH",
                        help="deploy this SAM or CloudFormation template instead of the example "
                             "stack (local CodeUri/ContentUri directories run in place on an "
                             "emulator on this machine, else are packaged to S3)")
    parser.add_argument("--stack-name", default=None,
                        help="the template's stack name (default: its directory's name)")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a template parameter (repeatable)")
    parser.add_argument("--zip-code", action="store_true",
                        help="zip each CodeUri/ContentUri directory to S3 even for an "
                             "emulator on this machine (by default it runs in place and a saved "
                             "change reaches the next invocation: hot reload)")


def deploy_template(target: Target, region: str, args: argparse.Namespace) -> DeployedStack:
    """Deploy ``args.template`` to ``target``; progress on stderr."""
    template: Path = args.template
    name = args.stack_name or _default_name(template)
    local = on_this_machine(target)
    images = EngineImageBuilder(progress=_progress) if local else None
    deployer = TemplateDeployer(lambda service: target.client(service, region), region,
                                progress=_progress,
                                code_in_place=not getattr(args, "zip_code", False) and local,
                                image_builder=images)
    try:
        return deployer.deploy(template, name, parse_parameters(args.parameter))
    finally:
        if images is not None:
            images.close()


def _progress(message: str) -> None:
    print(f"deploying {message}", file=sys.stderr)


def on_this_machine(target: Target) -> bool:
    """Whether the endpoint is on this machine's loopback, so it can read a local directory
    (real AWS, with no endpoint URL, and remote hosts get zips)."""
    if not target.endpoint_url:
        return False
    host = urlsplit(target.endpoint_url).hostname or ""
    return host == "localhost" or host.endswith(".localhost") or _loopback(host)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def print_stack(stack: DeployedStack, endpoint_url: str | None) -> None:
    """The stack's outputs; an API URL also in LocalStack's form on this endpoint."""
    print(f"stack {stack.name}: {stack.status}", flush=True)
    for key, value in stack.outputs.items():
        print(f"  {key} = {value}", flush=True)
        local = local_api_url(value, endpoint_url) if endpoint_url else None
        if local:
            print(f"  {' ' * len(key)}   here: {local}", flush=True)


def _default_name(template: Path) -> str:
    base = template.resolve().parent.name or "app"
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in base).strip("-")
    return cleaned if cleaned[:1].isalpha() else f"app-{cleaned}"
