"""An allow-or-deny answer with its reason, and AWS's AccessDenied message built from it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """Whether a call may go ahead, and why."""

    allowed: bool
    reason: str
    """One line. For a refused identity, AWS's own phrase ("because no identity-based policy
    allows the s3:GetObject action", "with an explicit deny in a resource-based policy")."""

    @classmethod
    def allow(cls, reason: str) -> Decision:
        return cls(True, reason)

    @classmethod
    def deny(cls, reason: str) -> Decision:
        return cls(False, reason)


def no_policy_allows(kind: str, action: str) -> Decision:
    """``kind``: "identity-based", "permissions boundary", "session"."""
    noun = kind if kind == "permissions boundary" else f"{kind} policy"
    return Decision.deny(f"because no {noun} allows the {action} action")


def explicit_deny(kind: str) -> Decision:
    """``kind``: "identity-based", "resource-based", "permissions boundary", "session"."""
    noun = kind if kind == "permissions boundary" else f"{kind} policy"
    article = "an" if noun[0] in "aeiou" else "a"
    return Decision.deny(f"with an explicit deny in {article} {noun}")


def access_denied_message(caller_arn: str, action: str, resource: str | None,
                          decision: Decision, *, quote_resource: bool = False) -> str:
    """AWS's message for a refused call, e.g. ``User: arn:aws:sts::123456789012:assumed-role/R/S
    is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no
    identity-based policy allows the s3:GetObject action`` (S3 quotes the resource)."""
    where = ""
    if resource is not None:
        where = f' on resource: "{resource}"' if quote_resource else f" on resource: {resource}"
    return f"User: {caller_arn} is not authorized to perform: {action}{where} {decision.reason}"
