"""What depends on a resource whose identity changed in an update, updated in turn.

moto updates only the resources whose own template text changed, so a function whose
``Layers: [!Ref Layer]`` now names a new layer version keeps the old one; AWS updates every
resource whose resolved properties changed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Stack

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")

def references(node: Any) -> set[str]:
    """Logical ids a template fragment refers to: Ref, Fn::GetAtt and ${...} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= set(_SUB_NAME.findall(str(text)))
                found |= references(value[1:] if isinstance(value, list) else [])
            else:
                found |= references(value)
    return found


def snapshot(stack: Stack) -> dict[str, str]:
    """Logical id -> what a Ref to it resolves to now."""
    parsed = stack.resource_map._parsed_resources
    return {lid: str(getattr(parsed[lid], "physical_resource_id", id(parsed[lid])))
            for lid in stack.resource_map._resource_json_map if parsed.get(lid) is not None}


def propagate(stack: Stack, before: dict[str, str]) -> None:
    """Update, until nothing changes, each resource that refers to one whose identity changed."""
    resource_map = stack.resource_map
    changed = {lid for lid, value in snapshot(stack).items() if before.get(lid) != value}
    done: set[str] = set()
    while changed:
        dependents = {lid for lid, resource in resource_map._resource_json_map.items()
                      if lid not in done and lid in resource_map._parsed_resources
                      and references(resource.get("Properties")) & changed}
        if not dependents:
            return
        now = snapshot(stack)
        for lid in sorted(dependents):
            updated = parsing.parse_and_update_resource(
                lid, copy.deepcopy(resource_map._resource_json_map[lid]), resource_map,
                account_id=resource_map._account_id, region_name=resource_map._region_name)
            if updated is not None:
                resource_map._parsed_resources[lid] = updated
        done |= dependents
        changed = {lid for lid, value in snapshot(stack).items() if now.get(lid) != value}


def dependency_cycle(template: dict[str, Any]) -> list[str]:
    """Resources that depend on each other in a circle (empty when there are none).

    moto would recurse until Python's stack runs out; CloudFormation refuses the template.
    """
    resources = template.get("Resources") or {}
    edges: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends = (resource or {}).get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else list(depends)
        wanted = references((resource or {}).get("Properties")) | set(depends)
        edges[logical_id] = {other for other in wanted if other in resources}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for other in sorted(edges[node]):
            if state.get(other) == 1:
                return path[path.index(other):]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return sorted(found)
    return []

