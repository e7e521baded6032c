"""IAM's condition operators and wildcards, as pure functions over a request's context keys.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
A context maps each key, lower-cased, to its values (a tuple: most keys have one value).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

Context = Mapping[str, tuple[str, ...]]
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# ${*}, ${?} and ${$} stand for the characters themselves.
_LITERALS = {"*": "*", "?": "?", "$": "$"}


@lru_cache(maxsize=4096)
def glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters, ``?`` any one character."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    return glob(pattern, ignore_case).fullmatch(value) is not None


def substitute(text: str, context: Context) -> str | None:
    """``text`` with its policy variables (``${aws:username}``) filled in from ``context``;
    None when one names a key the request does not have (the element then matches nothing)."""
    if "${" not in text:
        return text
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name, _, default = match.group(1).partition(",")
        if name in _LITERALS:
            return _LITERALS[name]
        found = context.get(name.strip().lower())
        if found:
            return found[0]
        if default:  # ${key, 'default'}
            return default.strip().strip("'")
        missing = True
        return ""

    out = _VARIABLE.sub(value, text)
    return None if missing else out


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts matched on its own."""
    wanted = pattern.split(":", 5)
    got = value.split(":", 5)
    if len(wanted) != len(got):
        return pattern == "*"
    return all(glob_matches(w, g) for w, g in zip(wanted, got, strict=True))


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> float:
    try:
        return float(text)  # epoch seconds are accepted too
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()


def _compare(convert: Callable[[str], float],
             test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def match(value: str, expected: str) -> bool:
        try:
            return test(convert(value), convert(expected))
        except (ValueError, TypeError):
            return False
    return match


def _ip(value: str, expected: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
# Each base operator's positive test, and whether the operator is its negation.
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, e: v == e, False),
    "StringNotEquals": (lambda v, e: v == e, True),
    "StringEqualsIgnoreCase": (lambda v, e: v.lower() == e.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, e: v.lower() == e.lower(), True),
    "StringLike": (lambda v, e: glob_matches(e, v), False),
    "StringNotLike": (lambda v, e: glob_matches(e, v), True),
    "ArnEquals": (lambda v, e: arn_like(e, v), False),
    "ArnLike": (lambda v, e: arn_like(e, v), False),
    "ArnNotEquals": (lambda v, e: arn_like(e, v), True),
    "ArnNotLike": (lambda v, e: arn_like(e, v), True),
    "Bool": (lambda v, e: v.lower() == e.lower(), False),
    "BinaryEquals": (lambda v, e: v == e, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    **{f"Numeric{name}": (_compare(_number, test), False) for name, test in _ORDER.items()},
    "NumericNotEquals": (_compare(_number, _ORDER["Equals"]), True),
    **{f"Date{name}": (_compare(_date, test), False) for name, test in _ORDER.items()},
    "DateNotEquals": (_compare(_date, _ORDER["Equals"]), True),
}


def known_operator(operator: str) -> bool:
    base = operator.split(":", 1)[-1]
    base = base[:-len("IfExists")] if base.endswith("IfExists") else base
    return base in _OPERATORS or base == "Null"


def condition_holds(operator: str, key: str, expected: Sequence[str], context: Context) -> bool:
    """One condition (operator, key, values) against the request's ``context``.

    A key the request lacks fails the condition, except for ``...IfExists`` and the negated
    operators (StringNotEquals, ArnNotLike, NotIpAddress...), which hold; ``ForAllValues``
    holds over no values. An operator IAM does not have never holds.
    """
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[:-len("IfExists")]
    values = context.get(key.lower())
    if base == "Null":
        return any(e.lower() == ("false" if values else "true") for e in expected)
    found = _OPERATORS.get(base)
    if found is None:
        return False
    test, negated = found
    if not values:
        return if_exists or negated or qualifier == "ForAllValues"
    expected = [e for e in (substitute(x, context) for x in expected) if e is not None]

    def one(value: str) -> bool:
        hit = any(test(value, e) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in values)
    hit = any(any(test(v, e) for e in expected) for v in values)
    return not hit if negated else hit
