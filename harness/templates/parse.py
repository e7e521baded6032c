"""Template text to a dict: JSON, or YAML with CloudFormation's short-form tags (``!Ref``...)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from harness.templates.errors import TemplateError

# Ref and Condition are the two intrinsics written without the "Fn::" prefix.
_UNPREFIXED = ("Ref", "Condition")


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader of its own, so that adding the tags changes no other YAML reader."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in _UNPREFIXED else f"Fn::{suffix}"
    value: Any
    if suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node).split(".", 1)  # !GetAtt Res.Attr
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)
# CloudFormation reads an unquoted 2010-09-09 as the string it is, not as a date.
_CfnLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_template(text: str) -> dict[str, Any]:
    """The template as a dict; a TemplateError names what is wrong with the text."""
    stripped = text.lstrip()
    try:
        data = json.loads(text) if stripped.startswith("{") else yaml.load(text, _CfnLoader)  # noqa: S506
    except json.JSONDecodeError as error:
        raise TemplateError(f"Template format error: JSON not well-formed. ({error})") from None
    except yaml.YAMLError as error:
        raise TemplateError(f"Template format error: YAML not well-formed. "
                            f"({' '.join(str(error).split())})") from None
    if not isinstance(data, dict):
        raise TemplateError("Template format error: a template must be a JSON or YAML object")
    if not isinstance(data.get("Resources"), dict) or not data["Resources"]:
        raise TemplateError(
            "Template format error: At least one Resources member must be defined.")
    return data


def transforms_of(template: dict[str, Any]) -> list[str]:
    """The template's top-level ``Transform`` as a list (it may be one name or a list)."""
    declared = template.get("Transform")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else [str(name) for name in declared]
