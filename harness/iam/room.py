"""The emulator's IAM: each execution environment's role credentials, and the check every moto
request passes (``harness.aws_state.iam_auth``) for calls made with them.

Policies are read from moto at each call, so a ``put_role_policy`` applies to the next call;
what is cached is keyed by the documents' text (a parsed policy; a session's identity while its
role's documents stay the same), which a change replaces.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from harness.aws_state import iam_auth, iam_resources, iam_roles
from harness.aws_state.iam_auth import ServiceCall
from harness.config import DEFAULT_ACCOUNT_ID, IamConfig
from harness.errors import AwsError
from harness.iam.conditions import Context
from harness.iam.decision import Decision, access_denied_message
from harness.iam.identity import Identity, authorize
from harness.iam.policy import Policy, Principal, parse_policy
from harness.lambda_.invoke_params import parse_function_name
from harness.lambda_.spec import FunctionSpec

_OBJECT_READS = frozenset({"s3:GetObject", "s3:GetObjectVersion"})
_MEMO_SIZE = 1024
_Memo = dict[tuple[object, ...], Decision]
"""(action, resource, the resource's policy text, the request's context) -> decision, for one
identity: evaluation is a pure function of them (the time is in the context when a policy
reads it, so then the key changes every second)."""


class Iam:
    """Owns the role sessions it minted; ``close()`` takes its check out of moto."""

    def __init__(self, config: IamConfig) -> None:
        self.config = config
        self._sessions: dict[str, iam_roles.Credentials] = {}
        """Access key -> the execution-role session it belongs to."""
        self._identities: dict[str, tuple[object, Identity, _Memo]] = {}
        """Access key -> (its policy documents as read, the identity made of them, and the
        decisions made for that identity)."""
        self._lock = threading.Lock()
        self._uninstall = lambda: None
        if config.enabled:
            iam_roles.install()
            self._uninstall = iam_auth.install(self)

    # -- credentials ---------------------------------------------------------------------------
    def credentials_for(self, spec: FunctionSpec) -> Mapping[str, str] | None:
        """The variables Lambda sets for the function's execution role: temporary credentials
        from STS AssumeRole, session named after the function. None when IAM is off."""
        if not self.config.enabled or not spec.role:
            return None
        made = iam_roles.assume_role(spec.role, spec.name, spec.region)
        with self._lock:
            self._sessions[made.access_key_id] = made
        return {"AWS_ACCESS_KEY_ID": made.access_key_id,
                "AWS_SECRET_ACCESS_KEY": made.secret_access_key,
                "AWS_SESSION_TOKEN": made.session_token}

    # -- the check (harness.aws_state.iam_auth.Authorizer) -------------------------------------
    def checks(self, access_key: str) -> bool:
        """The execution roles' sessions; with "all", any key IAM holds. Other keys are
        served as moto serves them (as the account's root, as LocalStack has them)."""
        return access_key in self._sessions or (
            self.config.mode == "all" and iam_roles.known_key(access_key))

    def authorize(self, call: ServiceCall) -> str | None:
        found = self._identity(call)
        if found is None:  # a key IAM no longer holds (its user was deleted): as moto serves it
            return None
        identity, memo = found
        decision, action, resource = self._decide(identity, memo, call, call.context)
        if decision.allowed:
            return None
        return access_denied_message(identity.arn, action, resource, decision,
                                     quote_resource=call.service == "s3")

    def _decide(self, identity: Identity, memo: _Memo | None, call: ServiceCall,
                context: Context) -> tuple[Decision, str, str | None]:
        if call.service != "s3":
            return _authorize(identity, memo, call.action, call.resource, context, None), \
                call.action, call.resource
        name, key = _bucket_and_key(call.resource)
        found = iam_resources.bucket(call.account_id, name) if name and name != "*" else None
        if name and name != "*" and found is None:  # S3 answers NoSuchBucket whoever asks
            return Decision.allow("no such bucket"), call.action, call.resource
        held = found.policy if found is not None else None
        decision = _authorize(identity, memo, call.action, call.resource, context, held)
        if not (decision.allowed and found is not None and key and call.action in _OBJECT_READS
                and not found.has_object(key)):
            return decision, call.action, call.resource
        # A missing key is NoSuchKey only to who may list the bucket; else 403, as on AWS.
        bucket_arn = f"arn:aws:s3:::{name}"
        return _authorize(identity, memo, "s3:ListBucket", bucket_arn, context, held), \
            "s3:ListBucket", bucket_arn

    def _identity(self, call: ServiceCall) -> tuple[Identity, _Memo | None] | None:
        session = self._sessions.get(call.access_key)
        if session is not None:
            return self._role_identity(call.access_key, session.role_arn, session.session_arn,
                                       session.account_id)
        if self.config.mode != "all":
            return None
        user = iam_roles.user_policies(call.account_id, call.access_key)
        if user is not None:
            return _identity(user.arn, user, call.account_id, frozenset({user.arn}), "User"), None
        theirs = iam_roles.users_session(call.account_id, call.access_key)
        if theirs is not None:
            return self._role_identity(call.access_key, theirs.role_arn, theirs.session_arn,
                                       call.account_id, theirs.session_policy)
        return None

    def _role_identity(self, access_key: str, role_arn: str, session_arn: str, account: str,
                       session_policy: str | None = None) -> tuple[Identity, _Memo]:
        """The session's identity, and the decisions made for it: both kept while the role's
        documents read now are the ones they were made from."""
        holder = iam_roles.role_policies(role_arn)
        if holder is None:  # the role was deleted: nothing speaks for its sessions any more
            holder = iam_roles.PolicyHolder(role_arn, "AROAUNKNOWN", ())
        key = (holder.documents, holder.boundary, holder.unique_id, session_policy)
        cached = self._identities.get(access_key)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        made = _identity(session_arn, holder, account, frozenset({session_arn, role_arn}),
                         "AssumedRole", session_policy, session_arn.rsplit("/", 1)[-1])
        memo: _Memo = {}
        self._identities[access_key] = (key, made, memo)
        return made, memo

    def refuse_invoke(self, authorization: str, function: str, qualifier: str | None,
                      region: str | None, source_ip: str = "127.0.0.1") -> str | None:
        """Invoke is served by the harness, not moto: the same check, for lambda:InvokeFunction
        on the function as named. AccessDenied's message, or None to go ahead."""
        scope = iam_auth.credential_scope(authorization)
        if scope is None or not self.checks(scope[0]):
            return None
        try:
            named = parse_function_name(function)
        except AwsError:
            return None  # Invoke answers the malformed name itself
        where = named.region or region or scope[1]
        account = named.account or DEFAULT_ACCOUNT_ID
        qualifier = named.qualifier or qualifier
        arn = f"arn:aws:lambda:{where}:{account}:function:{named.name}"
        context: dict[str, tuple[str, ...]] = {
            "aws:sourceip": (source_ip,), "aws:securetransport": ("false",),
            "aws:requestedregion": (where,)}
        return self.authorize(ServiceCall(
            scope[0], None, "lambda", "lambda:InvokeFunction",
            f"{arn}:{qualifier}" if qualifier else arn, account, where, context))

    # -- lifecycle -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every session (moto's STS and IAM are reset with the rest of its state)."""
        with self._lock:
            self._sessions.clear()
            self._identities.clear()

    def close(self) -> None:
        self._uninstall()
        self.reset()


def _parsed(document: str | bytes | None) -> Policy | None:
    return parse_policy(document) if document else None


def _authorize(identity: Identity, memo: _Memo | None, action: str, resource: str | None,
               context: Context, held: str | bytes | None) -> Decision:
    """``authorize`` with the resource's policy as text, remembered in ``memo``; the time
    joins the context (and the memo's key) only when a policy's condition reads it."""
    policy = _parsed(held)
    if any(p.uses_time for p in (*identity.policies, identity.boundary,
                                 identity.session_policy, policy) if p is not None):
        context = {**context, **_clock_keys()}
    if memo is None:
        return authorize(identity, action, resource, context, policy)
    key = (action, resource, held, tuple(context.items()))
    decision = memo.get(key)
    if decision is None:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        decision = memo[key] = authorize(identity, action, resource, context, policy)
    return decision


def _bucket_and_key(resource: str | None) -> tuple[str | None, str | None]:
    if not resource or not resource.startswith("arn:aws:s3:::"):
        return None, None
    name, _, key = resource[len("arn:aws:s3:::"):].partition("/")
    return name, key or None


_clock: tuple[int, dict[str, tuple[str, ...]]] = (0, {})


def _clock_keys() -> dict[str, tuple[str, ...]]:
    """aws:CurrentTime and aws:EpochTime, made once a second."""
    global _clock
    now = int(time.time())
    if _clock[0] != now:
        _clock = (now, {"aws:epochtime": (str(now),), "aws:currenttime": (
            datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),)})
    return _clock[1]


def _identity(arn: str, holder: iam_roles.PolicyHolder, account: str, names: frozenset[str],
              kind: str, session_policy: str | None = None, session: str = "") -> Identity:
    context = {"aws:principalarn": (holder.arn,), "aws:principalaccount": (account,),
               "aws:principaltype": (kind,),
               "aws:userid": (f"{holder.unique_id}:{session}" if session else holder.unique_id,)}
    if kind == "User":
        context["aws:username"] = (holder.arn.rsplit("/", 1)[-1],)
    return Identity(arn=arn, principal=Principal(arns=names, account=account),
                    policies=tuple(parse_policy(d) for d in holder.documents),
                    boundary=_parsed(holder.boundary), session_policy=_parsed(session_policy),
                    context=context)
