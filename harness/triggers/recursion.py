"""Recursive loop detection, as Lambda documents it: an event's chain of invocations is counted in
the X-Ray trace header's ``Lineage`` field, and the 17th invocation of one function in a chain is
stopped (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).

The count travels with the event: the function runs with the counted header as
``_X_AMZN_TRACE_ID``; botocore, inside a function, sends it as ``X-Amzn-Trace-Id`` on every call;
SQS keeps it on the message as ``AWSTraceHeader``; the next delivery counts one more. Lineage is
``Lineage=1:<function hash>:<count>`` with ``|``-separated entries for other functions, as real
headers show it. ``PutFunctionRecursionConfig`` ``Allow`` turns the stop off for one function.
"""

from __future__ import annotations

import json
import logging
import random
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from harness.aws_state import lambda_recursion
from harness.errors import AwsError, InvalidParameterError, InvalidRequestContentError

LIMIT = 16
"""Invocations of one function allowed in one chain; the next one is stopped."""
POLICIES = ("Allow", "Terminate")
LINEAGE_VERSION = "1"
log = logging.getLogger("harness.triggers")


# -- the trace header (pure) -------------------------------------------------------------------
def parse_header(header: str | None) -> dict[str, str]:
    """``Root=...;Parent=...;Sampled=0;Lineage=...`` as an ordered dict (junk parts ignored)."""
    fields: dict[str, str] = {}
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            fields[key] = value
    return fields


def parse_lineage(value: str | None) -> dict[str, int]:
    """``1:a87bd80c:1|68fd508a:5`` (or the older ``a87bd80c:1``) -> {hash: count}; anything
    unreadable counts as no lineage at all."""
    counts: dict[str, int] = {}
    for index, entry in enumerate((value or "").split("|")):
        parts = entry.split(":")
        if index == 0 and len(parts) == 3:
            parts = parts[1:]  # the leading version
        if len(parts) != 2 or not parts[0] or not parts[1].isdigit():
            return {}
        counts[parts[0]] = int(parts[1])
    return counts


def format_lineage(counts: dict[str, int]) -> str:
    return LINEAGE_VERSION + ":" + "|".join(f"{key}:{count}" for key, count in counts.items())


def function_key(function_arn: str) -> str:
    """The function's 8-hex-digit mark in a lineage (its unqualified ARN's CRC-32)."""
    unqualified = ":".join(function_arn.split(":")[:7])
    return f"{zlib.crc32(unqualified.encode()):08x}"


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{random.getrandbits(96):024x}"


def counted_header(header: str | None, key: str, count: int) -> str:
    """The header an invocation runs with: the event's trace (a new one if it has none), a new
    parent segment, and the lineage with this function's ``count``."""
    fields = parse_header(header)
    counts = parse_lineage(fields.get("Lineage"))
    counts[key] = count
    out = {"Root": fields.get("Root") or new_root(), "Parent": f"{random.getrandbits(64):016x}",
           "Sampled": fields.get("Sampled", "0")}
    out.update({k: v for k, v in fields.items() if k not in (*out, "Lineage")})
    out["Lineage"] = format_lineage(counts)
    return ";".join(f"{k}={v}" for k, v in out.items())


@dataclass(frozen=True)
class Screening:
    """Which of a delivery's events may invoke the function, and the header it runs with."""

    allowed: tuple[int, ...]
    """Indexes of the events delivered."""
    stopped: tuple[int, ...]
    """Indexes of the events whose chain has reached the limit (not delivered)."""
    trace_header: str | None
    """The invocation's counted header (None when nothing is delivered)."""


def screen(function_arn: str, headers: Sequence[str | None], policy: str) -> Screening:
    """Count each event's chain for ``function_arn``; under ``Terminate`` an event whose count
    reaches ``LIMIT`` (its 17th invocation) is stopped. The invocation continues the longest
    chain among the delivered events, so a loop is never hidden by a batch."""
    key = function_key(function_arn)
    counts = [parse_lineage(parse_header(h).get("Lineage")).get(key, -1) + 1 for h in headers]
    stop = policy == "Terminate"
    stopped = tuple(i for i, count in enumerate(counts) if stop and count >= LIMIT)
    allowed = tuple(i for i in range(len(headers)) if i not in stopped)
    if not allowed:
        return Screening((), stopped, None)
    longest = max(allowed, key=lambda i: counts[i])
    return Screening(allowed, stopped, counted_header(headers[longest], key, counts[longest]))


# -- the function's configuration and what a stop leaves behind --------------------------------
def _where(function_arn: str) -> tuple[str, str, str]:
    parts = function_arn.split(":")
    return parts[6], parts[4], parts[3]


def policy_of(function_arn: str) -> str:
    """The function's RecursiveLoop ("Terminate" unless set; a gone function is "Terminate")."""
    name, account, region = _where(function_arn)
    try:
        return lambda_recursion.recursive_loop(name, account, region)
    except AwsError:
        return lambda_recursion.DEFAULT


def report_stopped(function_arn: str, source: str, count: int) -> None:
    """The log line Lambda writes for a stop (the RecursiveInvocationsDropped metric comes
    from the mapping's stop observers: harness.metrics)."""
    name, account, region = _where(function_arn)
    log.warning("recursive loop detected: %d invocation(s) of %s from %s stopped after %d "
                "invocations in one chain (RecursiveLoop Terminate)", count, name, source, LIMIT)


# -- Put/GetFunctionRecursionConfig ------------------------------------------------------------
def get_config(function: str, account_id: str, region: str) -> dict[str, str]:
    return {"RecursiveLoop": lambda_recursion.recursive_loop(function, account_id, region)}


def put_config(function: str, account_id: str, region: str, body: bytes) -> dict[str, str]:
    """PutFunctionRecursionConfig's body ``{"RecursiveLoop": "Allow" | "Terminate"}``."""
    try:
        value = json.loads(body or b"{}").get("RecursiveLoop")
    except (ValueError, AttributeError, RecursionError):
        raise InvalidRequestContentError("Could not parse request body into json") from None
    if value not in POLICIES:
        shown = "null" if value is None else f"'{value}'"
        raise InvalidParameterError(
            f"1 validation error detected: Value {shown} at 'recursiveLoop' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Allow, Terminate]",
            code="ValidationException")
    return {"RecursiveLoop": lambda_recursion.set_recursive_loop(function, account_id, region,
                                                                 value)}
