"""What a rule's target receives: the event itself, or its ``Input``, ``InputPath`` or
``InputTransformer``, as AWS documents them. Pure functions.

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
An ``InputTemplate`` that starts with ``{`` is JSON: a placeholder standing as a JSON value
becomes the value's JSON (a string quoted), one inside a JSON string is put in as it is, not
escaped (so an object there breaks the JSON, and AWS then delivers nothing). Any other template
is text: strings go in as they are, objects and lists without their quotes
(``{a:1}``, ``[x,y]``). A path the event lacks gives an empty string. The predefined
``<aws.events.rule-arn>``, ``<aws.events.rule-name>``, ``<aws.events.event.ingestion-time>``,
``<aws.events.event>`` (the event without ``detail``) and ``<aws.events.event.json>`` (all of
it) cannot be overridden.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.triggers.event_errors import EventsValidationError

PREDEFINED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time",
              "aws.events.event", "aws.events.event.json")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_STEP = re.compile(r"\.([^.\[\]]+)|\[([0-9]+)\]|\[\*\]|\['([^']*)'\]")
_MISSING = object()


def check_targets(targets: list[dict[str, Any]]) -> None:
    """PutTargets' checks of each target's input; ``EventsValidationError`` as AWS words it."""
    for target in targets:
        target_id = target.get("Id")
        given = [key for key in ("Input", "InputPath", "InputTransformer") if key in target]
        if len(given) > 1:
            raise EventsValidationError("Only one of Input, InputPath, or InputTransformer must "
                                        f"be provided for target {target_id}.")
        if "Input" in target and not _is_json(target["Input"]):
            raise EventsValidationError(f"Input for target {target_id} is not a valid JSON text.")
        transformer = target.get("InputTransformer")
        if transformer is not None:
            _check_transformer(target_id, transformer)


def _check_transformer(target_id: Any, transformer: dict[str, Any]) -> None:
    template = transformer.get("InputTemplate")
    if not isinstance(template, str) or not template:
        raise EventsValidationError(
            f"InputTemplate for target {target_id} must be a non-empty string.")
    known = set(transformer.get("InputPathsMap") or {}) | set(PREDEFINED)
    for name in _PLACEHOLDER.findall(template):
        if name not in known:
            raise EventsValidationError(
                f"InputTemplate for target {target_id} contains invalid placeholder {name}.")


def _is_json(text: Any) -> bool:
    try:
        json.loads(text)
    except (TypeError, ValueError):
        return False
    return True


def target_input(target: dict[str, Any], event: dict[str, Any], *, rule_name: str,
                 rule_arn: str, ingestion_time: str) -> str | None:
    """The text the target receives for ``event``; None when AWS would deliver nothing (an
    ``InputPath`` the event lacks, a JSON template that does not come out as JSON)."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        found = json_path(event, target["InputPath"])
        return None if found is _MISSING else json.dumps(found)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return json.dumps(event)
    values = {name: json_path(event, path)
              for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.update(predefined_values(event, rule_name=rule_name, rule_arn=rule_arn,
                                    ingestion_time=ingestion_time))
    return fill_template(transformer["InputTemplate"], values)


def predefined_values(event: dict[str, Any], *, rule_name: str, rule_arn: str,
                      ingestion_time: str) -> dict[str, Any]:
    """The reserved placeholders' values."""
    summary = {("detailType" if key == "detail-type" else key): value
               for key, value in event.items() if key != "detail"}
    return {"aws.events.rule-arn": rule_arn, "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": ingestion_time,
            "aws.events.event": summary, "aws.events.event.json": event}


def fill_template(template: str, values: dict[str, Any]) -> str | None:
    """The template with its placeholders replaced; None when a JSON template (one starting
    with ``{``) does not come out as JSON."""
    as_json = template.lstrip().startswith("{")
    out: list[str] = []
    in_string, i = False, 0
    while i < len(template):
        char = template[i]
        if char == "\\" and in_string:
            out.append(template[i:i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        found = _PLACEHOLDER.match(template, i)
        if found is not None and found.group(1) in values:
            out.append(_render(values[found.group(1)], as_value=as_json and not in_string,
                               in_json=as_json))
            i = found.end()
            continue
        out.append(char)
        i += 1
    text = "".join(out)
    return text if not as_json or _is_json(text) else None


def _render(value: Any, *, as_value: bool, in_json: bool) -> str:
    if value is _MISSING:
        value = ""
    if as_value:
        return json.dumps(value)
    if isinstance(value, str):
        return value  # AWS does not escape what it puts inside a string
    if in_json or not isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, list):
        return "[" + ",".join(_render(v, as_value=False, in_json=False) for v in value) + "]"
    return json.dumps(value, separators=(",", ":")).replace('"', "")


def json_path(document: Any, path: str) -> Any:
    """The value at a JSONPath of the kinds AWS supports (``$.a.b``, ``$.a[0]``, ``$.a[*].b``,
    ``$['a-b']``); a list of the matches once a wildcard is used; ``_MISSING`` when none."""
    if not isinstance(path, str) or not path.startswith("$"):
        return _MISSING
    nodes, wildcard, position = [document], False, 1
    while position < len(path):
        step = _STEP.match(path, position)
        if step is None:
            return _MISSING
        name, index = step.group(1) or step.group(3), step.group(2)
        if step.group(0) in ("[*]", ".*"):
            wildcard = True
            nodes = [v for n in nodes for v in (n.values() if isinstance(n, dict) else
                                                n if isinstance(n, list) else [])]
        elif index is not None:
            nodes = [n[int(index)] for n in nodes
                     if isinstance(n, list) and int(index) < len(n)]
        else:
            nodes = [n[name] for n in nodes if isinstance(n, dict) and name in n]
        position = step.end()
    if wildcard:
        return nodes if nodes else _MISSING
    return nodes[0] if nodes else _MISSING
