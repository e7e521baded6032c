"""``${...}`` references in scenario values, and dotted paths into JSON values; pure functions.

A reference names a value in a scope: ``${stack.bucket}``, ``${steps.features.rows}``,
``${steps.predict.body.predictions[0]}``, ``${vars.key}``. A string that is one reference and
nothing else becomes the referenced value itself (a number stays a number); references inside
longer strings are interpolated as text. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

_REFERENCE = re.compile(r"(?<!\$)\$\{([^{}]*)\}")
_SINGLE = re.compile(r"\$\{([^{}]+)\}")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")

PathPart = str | int


class VariableError(ValueError):
    """A reference or path that cannot be resolved; the message says why."""


def is_single_reference(text: str) -> bool:
    """True when ``text`` is exactly one ``${...}`` and nothing else."""
    return bool(_SINGLE.fullmatch(text))


def references(value: Any) -> Iterator[str]:
    """Every reference expression inside ``value`` (strings, lists and mappings, deeply)."""
    if isinstance(value, str):
        for match in _REFERENCE.finditer(value):
            yield match.group(1).strip()
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from references(item)


def parse_path(expression: str) -> list[PathPart]:
    """``a.b[0].c`` (or ``$.a.b.0.c``) as ``["a", "b", 0, "c"]``; ValueError when malformed."""
    text = expression.strip()
    if text.startswith("$"):
        text = text[1:].lstrip(".")
    if not text:
        return []
    parts: list[PathPart] = []
    position = 0
    while position < len(text):
        if text[position] == "." and parts:
            position += 1
        match = _SEGMENT.match(text, position)
        if match is None:
            raise VariableError(f"malformed path {expression!r} at character {position + 1}")
        name, index = match.groups()
        if index is not None:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
        position = match.end()
    return parts


def get_path(value: Any, path: list[PathPart], shown: str = "value") -> Any:
    """The value at ``path`` inside ``value``; VariableError naming the first missing part."""
    current = value
    walked = shown
    for part in path:
        if isinstance(current, Mapping) and isinstance(part, str | int):
            key: Any = part if part in current else str(part)
            if key not in current:
                keys = ", ".join(map(str, list(current)[:12])) or "none"
                raise VariableError(f"{walked} has no key {str(part)!r} (its keys: {keys})")
            current = current[key]
        elif isinstance(current, list | tuple) and isinstance(part, int):
            if not -len(current) <= part < len(current):
                raise VariableError(f"{walked} has {len(current)} items; no index {part}")
            current = current[part]
        else:
            kind = "a list" if isinstance(current, list | tuple) else type(current).__name__
            raise VariableError(f"{walked} is {kind}; it has no {str(part)!r}")
        walked = f"{walked}[{part}]" if isinstance(part, int) else f"{walked}.{part}"
    return current


def lookup(expression: str, scope: Mapping[str, Any]) -> Any:
    """The value a reference expression names in ``scope`` (top level: stack, steps, vars)."""
    path = parse_path(expression)
    if not path or not isinstance(path[0], str):
        raise VariableError(f"empty reference ${{{expression}}}")
    root = path[0]
    if root not in scope:
        raise VariableError(f"unknown name {root!r} in ${{{expression}}}; "
                            f"use one of: {', '.join(scope)}")
    return get_path(scope[root], path[1:], root)


def resolve(value: Any, scope: Mapping[str, Any]) -> Any:
    """``value`` with every reference replaced by what it names (deeply)."""
    if isinstance(value, str):
        return _resolve_text(value, scope)
    if isinstance(value, list | tuple):
        return [resolve(item, scope) for item in value]
    if isinstance(value, Mapping):
        return {key: resolve(item, scope) for key, item in value.items()}
    return value


def _resolve_text(text: str, scope: Mapping[str, Any]) -> Any:
    single = _SINGLE.fullmatch(text)
    if single is not None:
        return lookup(single.group(1).strip(), scope)

    def substitute(match: re.Match[str]) -> str:
        found = lookup(match.group(1).strip(), scope)
        return found if isinstance(found, str) else json.dumps(found)

    return _REFERENCE.sub(substitute, text).replace("$${", "${")
