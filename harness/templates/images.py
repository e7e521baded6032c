"""Container images a template builds: ``PackageType: Image`` functions with SAM's ``Metadata``.

``sam build`` builds such a function from its ``Metadata`` (``Dockerfile``, ``DockerContext``,
``DockerTag``, ``DockerBuildArgs``, ``DockerBuildTarget``) on the client's Docker engine and tags
the image ``<logical id, lower case>:<DockerTag>``; ``sam deploy`` then pushes it and sets the
function's ``ImageUri``. The build is the client's, never CloudFormation's, so here too it happens
in the deployer (``harness deploy --template``, ``harness up --template``), with the engine the
container executor uses, and the template is sent with ``ImageUri`` set. The CloudFormation
endpoint takes templates as AWS's does: an Image function there needs its ``ImageUri``.

https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-build.html
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError

_IMAGE_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class ImageBuild:
    """One function's image, as ``sam build`` would build it."""

    logical_id: str
    context: Path
    """DockerContext, resolved from the template's directory."""
    dockerfile: str
    """Dockerfile, relative to the context (as docker build's -f takes it there)."""
    tag: str
    """``<logical id, lower case>:<DockerTag>``, sam build's name for the image."""
    build_args: tuple[tuple[str, str], ...] = ()
    target: str | None = None
    """DockerBuildTarget: the stage of a multi-stage Dockerfile to build."""


ImageBuilder = Callable[[ImageBuild], str]
"""Builds an image; returns the ImageUri to deploy."""


def image_builds(template: dict[str, Any], base: Path) -> list[ImageBuild]:
    """The Image functions of ``template`` that carry build ``Metadata``; a Metadata that cannot
    be built is a UsageError naming the function."""
    builds = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        resource = resource or {}
        metadata = resource.get("Metadata") or {}
        if resource.get("Type") not in _IMAGE_FUNCTION_TYPES or "Dockerfile" not in metadata:
            continue
        if (resource.get("Properties") or {}).get("PackageType") != "Image":
            continue
        builds.append(_build_of(str(logical_id), metadata, base))
    return builds


def _build_of(logical_id: str, metadata: dict[str, Any], base: Path) -> ImageBuild:
    context_value = metadata.get("DockerContext")
    if not isinstance(context_value, str) or not isinstance(metadata["Dockerfile"], str):
        raise UsageError(f"{logical_id}: Metadata needs Dockerfile and DockerContext as paths to "
                         "build its image")
    context = (base / context_value).resolve()
    if not context.is_dir():
        raise UsageError(f"{logical_id}: DockerContext {context_value} is not a directory "
                         f"(from {base})")
    if not (context / metadata["Dockerfile"]).is_file():
        raise UsageError(f"{logical_id}: Dockerfile {metadata['Dockerfile']} is not in its "
                         f"DockerContext {context}")
    args = metadata.get("DockerBuildArgs") or {}
    if not isinstance(args, dict):
        raise UsageError(f"{logical_id}: DockerBuildArgs must be a map of names to values")
    target = metadata.get("DockerBuildTarget")
    return ImageBuild(logical_id=logical_id, context=context, dockerfile=metadata["Dockerfile"],
                      tag=f"{logical_id.lower()}:{metadata.get('DockerTag') or DEFAULT_TAG}",
                      build_args=tuple(sorted((str(k), str(v)) for k, v in args.items())),
                      target=str(target) if target else None)


def has_image_uri(template: dict[str, Any], logical_id: str) -> bool:
    properties = template["Resources"][logical_id].get("Properties") or {}
    if template["Resources"][logical_id]["Type"] == "AWS::Serverless::Function":
        return bool(properties.get("ImageUri"))
    return bool((properties.get("Code") or {}).get("ImageUri"))


def set_image_uri(template: dict[str, Any], logical_id: str, uri: str) -> None:
    """Point the function at ``uri``: SAM's ``ImageUri``, or CloudFormation's
    ``Code.ImageUri``."""
    resource = template["Resources"][logical_id]
    properties = resource.setdefault("Properties", {})
    if resource["Type"] == "AWS::Serverless::Function":
        properties["ImageUri"] = uri
    else:
        properties["Code"] = {**(properties.get("Code") or {}), "ImageUri": uri}
