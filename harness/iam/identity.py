"""Whether an identity (a role session, a user) may make a call, in one account: pure.

AWS's evaluation logic, for callers and resources of the same account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny in any policy wins; else a resource-based policy that names the caller grants;
else an identity-based policy must allow, and so must the permissions boundary and the session
policy when there are any. Service control policies and cross-account access are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.iam.conditions import Context
from harness.iam.decision import Decision, explicit_deny, no_policy_allows
from harness.iam.policy import Effect, Policy, Principal, Request, evaluate

ALWAYS_ALLOWED = frozenset({"sts:getcalleridentity"})
"""Actions no policy can refuse (GetCallerIdentity works even under an explicit Deny)."""


@dataclass(frozen=True)
class Identity:
    """A caller and the policies that speak for it, read at the moment of the call."""

    arn: str
    """As AWS names the caller in messages: ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``."""
    principal: Principal
    policies: tuple[Policy, ...]
    """Identity-based: the role's (or user's) inline and attached managed policies."""
    boundary: Policy | None = None
    session_policy: Policy | None = None
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The caller's own condition keys (aws:PrincipalArn, aws:PrincipalAccount, ...)."""


def authorize(identity: Identity, action: str, resource: str | None, context: Context,
              resource_policy: Policy | None = None) -> Decision:
    """Whether ``identity`` may perform ``action`` on ``resource``; the reason is AWS's."""
    if action.lower() in ALWAYS_ALLOWED:
        return Decision.allow(f"{action} needs no permission")
    request = Request(action, resource, {**context, **identity.context}, identity.principal)
    own = [evaluate(policy, request) for policy in identity.policies]
    held = evaluate(resource_policy, request) if resource_policy is not None else None
    boundary = evaluate(identity.boundary, request) if identity.boundary is not None else None
    session = (evaluate(identity.session_policy, request)
               if identity.session_policy is not None else None)
    if any(outcome.effect is Effect.DENY for outcome in own):
        return explicit_deny("identity-based")
    if held is not None and held.effect is Effect.DENY:
        return explicit_deny("resource-based")
    if boundary is not None and boundary.effect is Effect.DENY:
        return explicit_deny("permissions boundary")
    if session is not None and session.effect is Effect.DENY:
        return explicit_deny("session")
    if held is not None and held.effect is Effect.ALLOW and not held.through_account:
        return Decision.allow(f"the resource-based policy allows it ({held.sid or 'no Sid'})")
    granted = next((o for o in own if o.effect is Effect.ALLOW), None)
    if granted is None:
        return no_policy_allows("identity-based", action)
    if boundary is not None and boundary.effect is not Effect.ALLOW:
        return no_policy_allows("permissions boundary", action)
    if session is not None and session.effect is not Effect.ALLOW:
        return no_policy_allows("session", action)
    return Decision.allow(f"an identity-based policy allows it ({granted.sid or 'no Sid'})")
