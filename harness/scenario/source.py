"""Reads a scenario file's YAML into plain dicts and lists that remember their line numbers.

PyYAML's composer marks every node with its position; the loader here keeps those marks on the
containers it builds, so the schema can say ``file:line: what is wrong``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError


class LineDict(dict):  # type: ignore[type-arg]
    """A YAML mapping: ``line`` is where it starts, ``key_lines[key]`` where each key is."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LineList(list):  # type: ignore[type-arg]
    """A YAML sequence: ``line`` is where it starts, ``item_lines[i]`` where each item is."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


def line_of(container: Any, key: Any) -> int | None:
    """Line of ``container[key]`` when the container came from a file, else None."""
    if isinstance(container, LineDict | LineList):
        return container.line_of(key)
    return None


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds LineDict/LineList and refuses duplicate keys."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark)
        if key in data.key_lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line {data.key_lines[key]})",
                key_node.start_mark)
        data.key_lines[key] = key_node.start_mark.line + 1
        data[key] = loader.construct_object(value_node, deep=True)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_object(item, deep=True) for item in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)  # type: ignore[arg-type]


def parse_yaml(text: str, path: str) -> Any:
    """The document in ``text``; a syntax error becomes a ScenarioError naming path and line."""
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ScenarioError(f"not valid YAML: {what}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", path=path) from None
    documents = [doc for doc in documents if doc is not None]
    if len(documents) != 1:
        raise ScenarioError(
            "a scenario file holds exactly one YAML document"
            + (" (this one is empty)" if not documents else f" (found {len(documents)})"),
            path=path, line=1)
    return documents[0]


def read_yaml(path: Path, shown: str | None = None) -> Any:
    """Read and parse the file at ``path``; ``shown`` is how messages name it."""
    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such file", path=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file: {exc}", path=name) from None
    return parse_yaml(text, name)
