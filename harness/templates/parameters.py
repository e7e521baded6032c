"""A stack's parameter values against the template's declarations, as CloudFormation checks them
before it makes anything (moto checks none: an unknown name or a value outside AllowedValues,
MinValue or MaxLength would be deployed as given)."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from harness.templates.errors import TemplateError


def check_parameters(declared: Mapping[str, Any], given: Mapping[str, str],
                     previous: Collection[str] = ()) -> None:
    """Raise CloudFormation's ValidationError for the first problem: a parameter the template
    does not declare, one without a value, or a value its constraints refuse. ``previous``:
    parameters that keep their value (UsePreviousValue), not checked again."""
    if not isinstance(declared, Mapping):
        raise TemplateError("Template format error: Parameters must be an object")
    unknown = [name for name in [*given, *previous] if name not in declared]
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values = {name: given.get(name, (spec or {}).get("Default"))
              for name, spec in declared.items() if name not in previous}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    for name, value in values.items():
        try:
            problem = constraint_problem(declared[name] or {}, str(value))
        except (ValueError, TypeError, re.error) as error:
            raise TemplateError(f"Template format error: parameter '{name}' has a malformed "
                                f"constraint ({error})") from None
        if problem:
            raise TemplateError(f"Parameter '{name}' {problem}")


def constraint_problem(spec: Mapping[str, Any], value: str) -> str | None:
    """What a String or Number parameter's constraints say about ``value``, or None."""
    kind = str(spec.get("Type", "String"))
    if kind == "Number":
        return _number_problem(spec, value)
    if kind != "String":
        return None  # lists and AWS-specific types: AWS checks them against the account
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        return "must be one of AllowedValues"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        return f"must match pattern {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"must contain at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"must contain at most {spec['MaxLength']} characters"
    return None


def _number_problem(spec: Mapping[str, Any], value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return "must be a number."
    if math.isnan(number):
        return "must be a number."
    allowed = spec.get("AllowedValues")
    if allowed is not None and number not in [float(v) for v in allowed]:
        return "must be one of AllowedValues"
    if "MinValue" in spec and number < float(spec["MinValue"]):
        return f"must be a number not less than {spec['MinValue']}"
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        return f"must be a number not greater than {spec['MaxValue']}"
    return None
