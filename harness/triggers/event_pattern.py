"""EventBridge event patterns as AWS reads them: checked at PutRule, matched at PutEvents.

Pure functions. moto's matcher (``events/models.py`` ``EventPattern``) misses fields inside
arrays of objects, AWS's joining of dotted names and several of AWS's validation messages, so
the harness matches with this one: exact values (typed: ``5`` is not ``"5"``; ``null``
included), ``prefix`` and ``suffix`` (also with ``equals-ignore-case``), ``equals-ignore-case``,
``anything-but`` (a value, a list, or ``prefix``/``suffix``/``wildcard``/``equals-ignore-case``),
``numeric`` ranges, ``exists``, ``wildcard``, ``cidr`` and ``$or`` at any level.

Both sides are flattened to dotted paths, as AWS does (``{"a": {"b": [..]}}`` and
``{"a.b": [..]}`` are the same pattern). Every element of an array in the event is a value of its
path, and a path matches when any of its conditions matches any of its values.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from harness.triggers.event_errors import InvalidEventPatternError

Pattern = dict[str, Any]
Alternative = list[tuple[str, list[Any]]]  # every (path, conditions) must match
NUMERIC_OPERATORS = ("<", "<=", "=", ">=", ">")
_ANYTHING_BUT_VALUE = "Value of anything-but must be an array or single string/number value."
_WILDCARD_TOO_COMPLEX = ("Rule is too complex - try using fewer wildcard characters or fewer "
                         "repeating character sequences after a wildcard character")
MAX_WILDCARDS = 5  # more than this is "too complex" here; AWS computes a finer complexity


# -- checking a pattern (PutRule) ---------------------------------------------------------------

def parse_pattern(text: str) -> Pattern:
    """A PutRule ``EventPattern`` string as a checked pattern; ``InvalidEventPatternError``
    with AWS's reason when it is not one."""
    try:
        pattern = json.loads(text)
    except (TypeError, ValueError):
        raise InvalidEventPatternError("Filter is not valid JSON") from None
    if not isinstance(pattern, dict):
        raise InvalidEventPatternError("Filter is not an object")
    check_pattern(pattern)
    return pattern


def check_pattern(pattern: Pattern) -> None:
    """Raise ``InvalidEventPatternError`` naming the first thing AWS would refuse."""
    for key, value in pattern.items():
        if key == "$or":
            _check_or(value)
        elif isinstance(value, dict):
            check_pattern(value)
        elif isinstance(value, list):
            if not value:
                raise InvalidEventPatternError("Empty arrays are not allowed")
            for condition in value:
                _check_condition(condition)
        else:
            raise InvalidEventPatternError(f'"{key}" must be an object or an array')


def _check_or(branches: Any) -> None:
    if not isinstance(branches, list) or not branches:
        raise InvalidEventPatternError('"$or" must be an array of objects')
    for branch in branches:
        if not isinstance(branch, dict):
            raise InvalidEventPatternError('"$or" must be an array of objects')
        check_pattern(branch)


def _check_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, (str, bool, int, float)):
        return
    if not isinstance(condition, dict):
        raise InvalidEventPatternError("Match value must be String, number, true, false, or null")
    if len(condition) != 1:
        raise InvalidEventPatternError("Only one key allowed in match expression")
    ((operator, argument),) = condition.items()
    check = _CHECKS.get(operator)
    if check is None:
        raise InvalidEventPatternError(f"Unrecognized match type {operator}")
    check(operator, argument)


def _check_affix(operator: str, argument: Any) -> None:
    if isinstance(argument, dict) and set(argument) == {"equals-ignore-case"}:
        argument = argument["equals-ignore-case"]
    if not isinstance(argument, str):
        raise InvalidEventPatternError(f"{operator} match pattern must be a string")


def _check_string(operator: str, argument: Any) -> None:
    if not isinstance(argument, str):
        raise InvalidEventPatternError(f"{operator} match pattern must be a string")
    if operator == "wildcard":
        _check_wildcard(argument)


def _check_exists(_operator: str, argument: Any) -> None:
    if not isinstance(argument, bool):
        raise InvalidEventPatternError("exists match pattern must be either true or false.")


def _check_numeric(_operator: str, argument: Any) -> None:
    if not isinstance(argument, list):
        raise InvalidEventPatternError("Value of numeric must be an array.")
    if not argument:
        raise InvalidEventPatternError("Invalid member in numeric match: ]")
    first = argument[0]
    if not isinstance(first, str):
        raise InvalidEventPatternError(f"Invalid member in numeric match: {first}")
    if first not in NUMERIC_OPERATORS:
        raise InvalidEventPatternError(f"Unrecognized numeric range operator: {first}")
    _check_operand(first, argument[1:2])
    if len(argument) == 2:
        return
    if first not in (">", ">="):
        raise InvalidEventPatternError("Too many elements in numeric expression")
    second = argument[2]
    if not isinstance(second, str):
        raise InvalidEventPatternError(f"Bad value in numeric range: {second}")
    if second not in ("<", "<="):
        raise InvalidEventPatternError(f"Bad numeric range operator: {second}")
    _check_operand(second, argument[3:4])
    if argument[3] <= argument[1]:
        raise InvalidEventPatternError("Bottom must be less than top")
    if len(argument) > 4:
        raise InvalidEventPatternError("Too many terms in numeric range expression")


def _check_operand(operator: str, operand: list[Any]) -> None:
    if not operand or not _is_number(operand[0]):
        name = "equals" if operator == "=" else operator
        raise InvalidEventPatternError(f"Value of {name} must be numeric")


def _check_cidr(_operator: str, argument: Any) -> None:
    if not isinstance(argument, str):
        raise InvalidEventPatternError("prefix match pattern must be a string")  # AWS's words
    parts = argument.split("/")
    if len(parts) != 2:
        raise InvalidEventPatternError("Malformed CIDR, one '/' required")
    if not parts[1].isdigit():
        raise InvalidEventPatternError("Malformed CIDR, mask bits must be an integer")
    try:
        ipaddress.ip_network(argument, strict=False)
    except ValueError:
        raise InvalidEventPatternError(f"Nonstandard IP address: {parts[0]}") from None


def _check_anything_but(_operator: str, argument: Any) -> None:
    if argument is None or isinstance(argument, bool):
        raise InvalidEventPatternError(_ANYTHING_BUT_VALUE)
    if isinstance(argument, (str, int, float)):
        return
    if isinstance(argument, list):
        for value in argument:
            if value is None or isinstance(value, (bool, dict, list)):
                raise InvalidEventPatternError(
                    "Inside anything but list, start|null|boolean is not supported.")
        return
    if not isinstance(argument, dict) or len(argument) != 1:
        raise InvalidEventPatternError(_ANYTHING_BUT_VALUE)
    ((inner, value),) = argument.items()
    if inner in ("prefix", "suffix"):
        _check_anything_but_affix(value)
    elif inner == "equals-ignore-case":
        if not _is_strings(value):
            raise InvalidEventPatternError("Inside anything-but/equals-ignore-case list, "
                                           "number|start|null|boolean is not supported.")
    elif inner == "wildcard":
        if not _is_strings(value):
            raise InvalidEventPatternError("wildcard match pattern must be a string")
        for one in value if isinstance(value, list) else [value]:
            _check_wildcard(one)
    else:
        raise InvalidEventPatternError(f"Unsupported anything-but pattern: {inner}")


def _check_anything_but_affix(value: Any) -> None:
    if isinstance(value, dict):
        raise InvalidEventPatternError(_ANYTHING_BUT_VALUE)
    if not _is_strings(value):
        raise InvalidEventPatternError("prefix/suffix match pattern must be a string")
    if value == "" or (isinstance(value, list) and "" in value):
        raise InvalidEventPatternError("Null prefix/suffix not allowed")


def _check_wildcard(value: str) -> None:
    if "**" in value:
        raise InvalidEventPatternError(
            f"Consecutive wildcard characters at pos {value.index('**') + 1}")
    if value.count("*") > MAX_WILDCARDS:
        raise InvalidEventPatternError(_WILDCARD_TOO_COMPLEX)


_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "prefix": _check_affix, "suffix": _check_affix, "equals-ignore-case": _check_string,
    "wildcard": _check_string, "exists": _check_exists, "numeric": _check_numeric,
    "cidr": _check_cidr, "anything-but": _check_anything_but,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_strings(value: Any) -> bool:
    """A string, or a non-empty list of strings."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


# -- matching an event (PutEvents) --------------------------------------------------------------

def matches(pattern: Pattern, event: Any) -> bool:
    """Whether ``event`` (the JSON event, a dict) matches a checked ``pattern``."""
    values = flatten_event(event)
    return any(all(_path_matches(conditions, values.get(path)) for path, conditions in branch)
               for branch in _alternatives(pattern, ""))


def flatten_event(node: Any, prefix: str = "",
                  out: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """Dotted path -> the leaf values found there (every element of an array is one)."""
    found: dict[str, list[Any]] = {} if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            flatten_event(value, f"{prefix}.{key}" if prefix else str(key), found)
    elif isinstance(node, list):
        for item in node:
            flatten_event(item, prefix, found)
    elif prefix:
        found.setdefault(prefix, []).append(node)
    return found


def _alternatives(pattern: Pattern, prefix: str) -> list[Alternative]:
    """The pattern as a list of branches (``$or`` multiplies them), each a list of
    (dotted path, conditions) that must all match."""
    branches: list[Alternative] = [[]]
    for key, value in pattern.items():
        if key == "$or":
            options = [b for sub in value for b in _alternatives(sub, prefix)]
        elif isinstance(value, dict):
            options = _alternatives(value, f"{prefix}.{key}" if prefix else key)
        else:
            options = [[(f"{prefix}.{key}" if prefix else key, value)]]
        branches = [branch + option for branch in branches for option in options]
    return branches


def _path_matches(conditions: list[Any], values: list[Any] | None) -> bool:
    return any(_condition_matches(condition, values) for condition in conditions)


def _condition_matches(condition: Any, values: list[Any] | None) -> bool:
    if not isinstance(condition, dict):
        return values is not None and any(_same(condition, v) for v in values)
    ((operator, argument),) = condition.items()
    if operator == "exists":
        return (values is not None) == argument
    if values is None:
        return False  # every other operator needs the field, anything-but included
    if operator == "anything-but":
        return any(_anything_but(argument, v) for v in values)
    test = _TESTS[operator]
    return any(test(argument, v) for v in values)


def _same(expected: Any, value: Any) -> bool:
    """JSON equality: numbers by value, everything else by type and value."""
    if _is_number(expected) and _is_number(value):
        return float(expected) == float(value)
    return type(expected) is type(value) and expected == value


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        ((operator, inner),) = argument.items()
        test = _TESTS[operator]
        return not any(test(one, value) for one in (inner if isinstance(inner, list) else [inner]))
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_same(one, value) for one in excluded)


def _prefix(argument: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict):
        return value.lower().startswith(argument["equals-ignore-case"].lower())
    return value.startswith(argument)


def _suffix(argument: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict):
        return value.lower().endswith(argument["equals-ignore-case"].lower())
    return value.endswith(argument)


def _equals_ignore_case(argument: str, value: Any) -> bool:
    return isinstance(value, str) and value.lower() == argument.lower()


def _numeric(argument: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    compare: dict[str, Callable[[float, float], bool]] = {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
        ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}
    return all(compare[op](float(value), float(operand))
               for op, operand in zip(argument[::2], argument[1::2]))


def _wildcard(argument: str, value: Any) -> bool:
    return isinstance(value, str) and wildcard_regex(argument).fullmatch(value) is not None


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """``*`` is any run of characters (none included); ``\\*`` a star, ``\\\\`` a backslash."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _cidr(argument: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(argument, strict=False)
    except ValueError:
        return False


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix, "suffix": _suffix, "equals-ignore-case": _equals_ignore_case,
    "numeric": _numeric, "wildcard": _wildcard, "cidr": _cidr,
}
