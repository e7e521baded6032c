"""moto's IAM and STS as the harness's IAM checks read them: roles' and users' policy documents,
temporary credentials minted through STS AssumeRole, and AWS managed policies on demand.

moto carries AWS's managed policies (AWSLambdaBasicExecutionRole, AmazonS3ReadOnlyAccess...) but
loads them only with MOTO_IAM_LOAD_MANAGED_POLICIES, into every account, at a cost of seconds;
without them, attaching one fails with NoSuchEntity. ``install()`` loads each one the first time
an account names it (attach, get, read as a permissions boundary).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from moto.iam.models import AWSManagedPolicy, IAMBackend, iam_backends
from moto.sts.models import sts_backends

from harness.aws_state.backends import existing

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
PARTITION = "aws"
_lock = threading.Lock()
_installed = False


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials of a role session, as STS AssumeRole returns them."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    role_arn: str
    session_name: str
    account_id: str

    @property
    def session_arn(self) -> str:
        role_name = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{self.account_id}:assumed-role/{role_name}/{self.session_name}"


@dataclass(frozen=True)
class PolicyHolder:
    """A role or user and the policy documents that speak for it, read now."""

    arn: str
    unique_id: str
    documents: tuple[str, ...]
    """Inline policies, then the default version of each attached managed policy (a group's
    too, for users)."""
    boundary: str | None = None
    """The permissions boundary's document, when one is set."""


@dataclass(frozen=True)
class UsersSession:
    """An STS session a user made with AssumeRole (only checked in the "all" mode)."""

    role_arn: str
    session_arn: str
    session_policy: str | None


def _backend(account_id: str) -> IAMBackend:
    return existing(iam_backends, account_id, PARTITION)  # type: ignore[no-any-return]


@cache
def _aws_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


def ensure_aws_policy(backend: IAMBackend, policy_arn: str) -> None:
    """Load AWS's managed policy ``policy_arn`` into ``backend`` if it names one moto knows."""
    if not policy_arn.startswith(AWS_POLICY_PREFIX) or policy_arn in backend.managed_policies:
        return
    name = policy_arn.rsplit("/", 1)[-1]
    data = _aws_policies().get(name)
    if data is None:
        return
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn == policy_arn:  # the path matches too
        backend.managed_policies[policy.arn] = policy
        backend.aws_managed_policies.append(policy)


def install() -> None:
    """Load AWS managed policies on demand (idempotent; process-wide, as moto's state is)."""
    global _installed
    with _lock:
        if _installed:
            return
        # Each takes the policy's ARN first.
        for method in ("attach_role_policy", "attach_user_policy", "attach_group_policy",
                       "get_policy", "get_policy_version"):
            original = getattr(IAMBackend, method)
            setattr(IAMBackend, method, _loading(original))
        _installed = True


def _loading(original: Any) -> Any:
    def method(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        ensure_aws_policy(self, policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    method.__name__ = original.__name__
    method.__doc__ = original.__doc__
    return method


def _text(document: Any) -> str:
    """moto's own AWS::IAM::Role stores a template's inline policy as a dict."""
    return document if isinstance(document, str) else json.dumps(document)


def _default_document(policy: Any) -> str:
    return next((v.document for v in policy.versions if v.is_default), "")


def _managed(backend: IAMBackend, policy_arn: str | None) -> str | None:
    if not policy_arn:
        return None
    ensure_aws_policy(backend, policy_arn)
    policy = backend.managed_policies.get(policy_arn)
    return _default_document(policy) if policy is not None else None


def role_policies(role_arn: str) -> PolicyHolder | None:
    """The role's policies as they are now; None when no such role exists."""
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    try:
        backend = _backend(account)
    except KeyError:
        return None
    name = role_arn.rsplit("/", 1)[-1]
    role = next((r for r in list(backend.roles.values())
                 if r.name == name and r.arn == role_arn), None)
    if role is None:
        return None
    documents = (*(_text(d) for d in list(role.policies.values())),
                 *(_default_document(p) for p in list(role.managed_policies.values())))
    return PolicyHolder(role.arn, role.id, tuple(documents),
                        _managed(backend, role.permissions_boundary_arn))


def user_policies(account_id: str, access_key_id: str) -> PolicyHolder | None:
    """The policies of the IAM user owning ``access_key_id``; None for a key no user has."""
    backend = _backend(account_id)
    user = backend.get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    documents = [*user.policies.values(),
                 *(_default_document(p) for p in user.managed_policies.values())]
    for group in backend.get_groups_for_user(user.name):
        documents += [*group.policies.values(),
                      *(_default_document(p) for p in group.managed_policies.values())]
    return PolicyHolder(user.arn, user.id, tuple(documents),
                        _managed(backend, getattr(user, "permissions_boundary_arn", None)))


def known_key(access_key_id: str) -> bool:
    """Whether IAM holds the key, in any account: a user's, or an STS session's."""
    for regions in list(dict.values(iam_backends)):
        backend = dict.get(regions, PARTITION)
        if backend is not None and access_key_id in backend.access_keys:
            return True
    return False


def users_session(account_id: str, access_key_id: str) -> UsersSession | None:
    """A session some caller made with STS AssumeRole, found by its access key."""
    found = sts_backends[account_id][PARTITION].get_assumed_role_from_access_key(access_key_id)
    if found is None:
        return None
    return UsersSession(found.role_arn, found.arn, found.policy or None)


def assume_role(role_arn: str, session_name: str, region: str,
                duration_s: int = 43200) -> Credentials:
    """Temporary credentials for ``role_arn`` from moto's STS (``ASIA...`` keys that moto's
    GetCallerIdentity and account lookup know), as Lambda gets them for an execution role."""
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    backend = sts_backends[account or "123456789012"][PARTITION]
    made = backend.assume_role(region_name=region, role_session_name=session_name,
                               role_arn=role_arn, policy="", duration=duration_s,
                               external_id="")
    return Credentials(made.access_key_id, made.secret_access_key, made.session_token,
                       role_arn, session_name, made.account_id)
