"""What S3 checks at PutBucketNotificationConfiguration and moto does not: configurations that
overlap, destinations that do not exist, a function whose policy does not let S3 invoke it.

The errors are moto's S3 ``InvalidArgument`` (XML with ``ArgumentName``/``ArgumentValue``), as S3
answers them. Queue and topic policies are not checked (moto does not enforce them either).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.s3.exceptions import InvalidArgumentError, InvalidNotificationDestination
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

UNABLE = "Unable to validate the following destination configurations"
OVERLAP = ("Configurations overlap. Configurations on the same bucket cannot share a common "
           "event type.")
AMBIGUOUS = ("Configuration is ambiguously defined. Cannot have overlapping suffixes in two "
             "rules if the prefixes are overlapping for the same event type.")
_KINDS = (("CloudFunctionConfiguration", "CloudFunction", "LambdaFunctionArn"),
          ("QueueConfiguration", "Queue", "QueueArn"), ("TopicConfiguration", "Topic", "TopicArn"))
_S3 = "s3.amazonaws.com"
_INVOKE_ACTIONS = ("lambda:invokefunction", "lambda:*", "*")


def _entries(config: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(argument name, destination ARN, entry) of every configuration, as moto's S3 responses
    parse them."""
    for kind, field, argument in _KINDS:
        entries = config.get(kind) or []
        for entry in entries if isinstance(entries, list) else [entries]:
            yield argument, entry[field], entry


def _arn_parts(argument: str, arn: str) -> list[str]:
    """arn:partition:service:region:account:resource, or S3's error naming the argument."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[3] or not parts[5]:
        raise InvalidArgumentError("The ARN could not be parsed", argument, arn)
    return parts


def _rules(entry: dict[str, Any]) -> tuple[str, str]:
    """(prefix, suffix) of an entry's S3Key filter, '' where there is none."""
    rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("FilterRule") or []
    found = {r["Name"].lower(): r["Value"] or "" for r in
             (rules if isinstance(rules, list) else [rules])}
    return found.get("prefix", ""), found.get("suffix", "")


def _events_overlap(a: list[str], b: list[str]) -> bool:
    """Whether two event lists share an event type (``s3:ObjectCreated:*`` covers its kinds)."""
    def family(event: str) -> str:
        return event.rsplit(":", 1)[0]
    return any(x == y or (x.endswith(":*") or y.endswith(":*")) and family(x) == family(y)
               for x in a for y in b)


def overlap_error(config: dict[str, Any]) -> InvalidArgumentError | None:
    """S3's refusal when two configurations could both fire for one event on one key: they
    share an event type, one prefix starts the other and one suffix ends the other."""
    entries = [entry for _, _, entry in _entries(config)]
    for i, first in enumerate(entries):
        for second in entries[i + 1:]:
            if not _events_overlap(first["Event"], second["Event"]):
                continue
            (p1, s1), (p2, s2) = _rules(first), _rules(second)
            if not (p1.startswith(p2) or p2.startswith(p1)):
                continue
            if not (s1.endswith(s2) or s2.endswith(s1)):
                continue
            filtered = any((p1, s1, p2, s2))
            return InvalidArgumentError(
                AMBIGUOUS if filtered else OVERLAP, "Event",
                ", ".join([*first["Event"], *second["Event"]]))
    return None


def _principal_is_s3(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, str):
        return principal == _S3
    values = [] if not isinstance(principal, dict) else [
        *_listed(principal.get("Service")), *_listed(principal.get("AWS"))]
    return _S3 in values or "*" in values


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _conditions_hold(condition: dict[str, Any], bucket_arn: str, account_id: str) -> bool:
    """The source conditions S3 meets as it calls Lambda (its bucket's ARN, its account);
    any other condition key is taken as met."""
    for operator, pairs in (condition or {}).items():
        for key, wanted in pairs.items():
            key = key.lower()
            if key == "aws:sourcearn":
                glob = "like" in operator.lower()  # ArnLike, StringLike
                ok = any(fnmatch.fnmatchcase(bucket_arn, w) if glob else bucket_arn == w
                         for w in _listed(wanted))
            elif key == "aws:sourceaccount":
                ok = account_id in _listed(wanted)
            else:
                continue
            if not ok:
                return False
    return True


def lets_s3_invoke(statements: list[dict[str, Any]], bucket_arn: str, account_id: str) -> bool:
    """Whether a function's resource policy lets S3 invoke it on behalf of this bucket."""
    for statement in statements:
        actions = [a.lower() for a in _listed(statement.get("Action"))]
        if (statement.get("Effect", "Allow") == "Allow"
                and any(a in _INVOKE_ACTIONS for a in actions)
                and _principal_is_s3(statement.get("Principal"))
                and _conditions_hold(statement.get("Condition") or {}, bucket_arn, account_id)):
            return True
    return False


def _destination_error(arn: str, parts: list[str], bucket_arn: str,
                       account_id: str) -> InvalidArgumentError | None:
    _, _, service, region, owner, name = parts
    owner = owner or account_id
    try:
        if service == "lambda":
            function = lambda_backend(owner, region).get_function(arn)
        elif service == "sqs":
            sqs_backends[owner][region].get_queue(name)
        else:
            sns_backends[owner][region].get_topic(arn)
    except Exception:
        what = {"lambda": "Lambda", "sqs": "queue", "sns": "topic"}[service]
        return InvalidArgumentError(UNABLE, arn, f"The destination {what} does not exist")
    if service == "lambda" and not lets_s3_invoke(function.policy.statements, bucket_arn,
                                                  account_id):
        return InvalidArgumentError(UNABLE, f"{arn}, null",
                                    f"Not authorized to invoke function [{arn}]")
    return None


def check_configuration(bucket_arn: str, region: str, account_id: str,
                        config: dict[str, Any]) -> None:
    """Raise S3's error for the first thing S3 would refuse in ``config``."""
    arns = {arn: _arn_parts(argument, arn) for argument, arn, _ in _entries(config)}
    if any(parts[3] != region for parts in arns.values()):
        raise InvalidNotificationDestination()
    error = overlap_error(config)
    for arn, parts in arns.items():
        error = error or _destination_error(arn, parts, bucket_arn, account_id)
    if error is not None:
        raise error
