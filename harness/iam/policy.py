"""IAM policy documents, parsed once and evaluated against one request: pure functions.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
Within one policy an explicit Deny beats any Allow. A request whose resource is unknown (moto
names no resource for most services' actions) is matched leniently: an Allow matches whatever
its Resource says, a Deny only when its Resource is ``*``, so an unknown resource never makes
a call fail that AWS would serve.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from harness.iam.conditions import Context, condition_holds, glob, glob_matches, substitute

log = logging.getLogger("harness.iam")


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Principal:
    """The caller as a resource-based policy's Principal element sees it."""

    arns: frozenset[str] = frozenset()
    """ARNs that name the caller itself: a role session's and its role's, or a user's."""
    account: str | None = None
    """The caller's account: a Principal naming it (``123456789012``, ``...:root``) delegates
    to the account's own policies rather than granting."""
    service: str | None = None
    """An AWS service calling on its own behalf: ``apigateway.amazonaws.com``."""


@dataclass(frozen=True)
class Request:
    """What a policy is asked about."""

    action: str
    """``service:Action``, as IAM names it."""
    resource: str | None
    """The resource's ARN; None when it is not known."""
    context: Context = field(default_factory=dict)
    """Condition keys, lower-cased, each with its values."""
    principal: Principal | None = None
    """Who calls: only resource-based policies look at it."""


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None
    """None when the statement has neither Resource nor NotResource (a Lambda permission's
    resource is its function's own)."""
    not_resource: bool
    action_match: re.Pattern[str] | None
    """``actions`` compiled into one pattern; None when one of them is ``*``."""
    resource_match: re.Pattern[str] | None
    """The ``resources`` without policy variables, compiled into one; None when one is ``*``."""
    resource_variables: tuple[str, ...]
    """The ``resources`` with policy variables (``${aws:username}``): filled in per request."""
    principal: Any
    """The Principal (or NotPrincipal) element as written; None in identity-based policies."""
    not_principal: bool
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]
    """(operator, key, values) triples."""


TIME_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    variables: bool = True
    """Version 2012-10-17: ``${...}`` is a policy variable (in 2008-10-17 it is literal)."""
    uses_time: bool = False
    """Whether a condition reads the time: only then does the clock enter a decision."""


@dataclass(frozen=True)
class Outcome:
    """How one policy answers a request."""

    effect: Effect | None
    """DENY if any statement denies, else ALLOW if any allows, else None (silent)."""
    sid: str | None = None
    """The deciding statement's Sid, for messages."""
    through_account: bool = False
    """An Allow that matched the caller only through its account (a Principal naming the
    account): it delegates to identity-based policies and grants nothing itself."""


SILENT = Outcome(None)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _conditions(element: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if not isinstance(element, Mapping):
        return ()
    return tuple((str(operator), str(key), tuple(str(v).lower() if isinstance(v, bool) else str(v)
                                                 for v in (raw if isinstance(raw, list)
                                                           else [raw])))
                 for operator, keys in element.items() if isinstance(keys, Mapping)
                 for key, raw in keys.items())


def _one_pattern(globs: tuple[str, ...], ignore_case: bool) -> re.Pattern[str] | None:
    """Any of ``globs`` as one compiled pattern (matching is the request's hot path)."""
    if "*" in globs:
        return None
    joined = "|".join(f"(?:{glob(g).pattern})" for g in globs) or "(?!)"
    return re.compile(joined, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _statement(raw: Mapping[str, Any], variables: bool) -> Statement:
    effect = Effect(raw["Effect"])
    has_resource = "Resource" in raw or "NotResource" in raw
    actions = _strings(raw.get("Action", raw.get("NotAction")))
    resources = _strings(raw.get("Resource", raw.get("NotResource"))) if has_resource else None
    filled = tuple(r for r in resources or () if variables and "${" in r)
    return Statement(
        sid=str(raw["Sid"]) if raw.get("Sid") is not None else None,
        effect=effect,
        actions=actions,
        not_action="Action" not in raw,
        resources=resources,
        not_resource="Resource" not in raw and "NotResource" in raw,
        action_match=_one_pattern(actions, ignore_case=True),
        resource_match=_one_pattern(tuple(r for r in resources or () if r not in filled),
                                    ignore_case=False),
        resource_variables=filled,
        principal=raw.get("Principal", raw.get("NotPrincipal")),
        not_principal="Principal" not in raw and "NotPrincipal" in raw,
        conditions=_conditions(raw.get("Condition")),
    )


def parse_policy(document: str | bytes | Mapping[str, Any]) -> Policy:
    """A policy from its JSON text or its parsed form. Statements that are not well formed
    are left out (and logged): they could not have been stored on AWS."""
    if isinstance(document, (str, bytes)):
        return _parse_text(document.decode() if isinstance(document, bytes) else document)
    return _parse(document)


@lru_cache(maxsize=2048)
def _parse_text(text: str) -> Policy:
    # Keyed by the text: a changed policy is another text, so the cache never outlives it.
    try:
        document = json.loads(text)
    except ValueError as error:
        log.warning("a policy that is not JSON is ignored: %s", error)
        return Policy(())
    return _parse(document if isinstance(document, Mapping) else {})


def _parse(document: Mapping[str, Any]) -> Policy:
    raw = document.get("Statement", [])
    variables = document.get("Version") != "2008-10-17"
    statements = []
    for item in raw if isinstance(raw, list) else [raw]:
        try:
            statements.append(_statement(item, variables))
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            log.warning("a policy statement that is not well formed is ignored (%s): %r",
                        error, item)
    uses_time = any(key.lower() in TIME_KEYS for statement in statements
                    for _op, key, _values in statement.conditions)
    return Policy(tuple(statements), variables=variables, uses_time=uses_time)


def evaluate(policy: Policy, request: Request) -> Outcome:
    """How ``policy`` answers ``request``: an explicit Deny wins over every Allow."""
    allowed: Outcome | None = None
    for statement in policy.statements:
        if not _action_matches(statement, request.action):
            continue
        through = _principal_matches(statement, request.principal)
        if through is None or not _resource_matches(statement, request):
            continue
        if not all(condition_holds(op, key, values, request.context)
                   for op, key, values in statement.conditions):
            continue
        if statement.effect is Effect.DENY:
            return Outcome(Effect.DENY, statement.sid)
        if allowed is None or (allowed.through_account and not through):
            allowed = Outcome(Effect.ALLOW, statement.sid, through_account=through)
    return allowed or SILENT


def _action_matches(statement: Statement, action: str) -> bool:
    pattern = statement.action_match
    hit = pattern is None or pattern.fullmatch(action) is not None
    return hit != statement.not_action


def _resource_matches(statement: Statement, request: Request) -> bool:
    if statement.resources is None:
        return True
    resource = request.resource
    if resource is None:  # unknown: lenient (see the module's docstring)
        if statement.effect is Effect.ALLOW:
            return True
        return not statement.not_resource and "*" in statement.resources
    pattern = statement.resource_match
    hit = pattern is None or pattern.fullmatch(resource) is not None
    if not hit:
        for each in statement.resource_variables:
            filled = substitute(each, request.context)
            if filled is not None and glob_matches(filled, resource):
                hit = True
                break
    return hit != statement.not_resource


def _principal_matches(statement: Statement, caller: Principal | None) -> bool | None:
    """None: the statement is not about this caller; else whether it matched only through the
    caller's account. Identity-based policies (no caller given) have no Principal."""
    if caller is None or statement.principal is None:
        return False
    kind = _principal_kind(statement.principal, caller)
    if statement.not_principal:
        return False if kind is None else None
    return kind


def _principal_kind(element: Any, caller: Principal) -> bool | None:
    if element == "*":
        return False
    if isinstance(element, str):  # a bare account id or ARN, as Lambda stores some
        element = {"AWS": element}
    if not isinstance(element, Mapping):
        return None
    if caller.service is not None:
        services = _strings(element.get("Service"))
        return False if caller.service in services else None
    through_account = None
    for value in _strings(element.get("AWS")):
        if value == "*" or value in caller.arns:
            return False
        if caller.account is not None and value in (
                caller.account, f"arn:aws:iam::{caller.account}:root"):
            through_account = True
    return through_account
