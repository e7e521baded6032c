"""IAM as AWS checks it: what fails on AWS for want of a permission fails here too.

    policy.py           policy documents parsed once, one request evaluated (pure)
    conditions.py       condition operators, wildcards and policy variables (pure)
    identity.py         may an identity make a call: identity-based, resource-based, boundary
                        and session policies, explicit Deny first (pure)
    resource_policy.py  may a service (or anyone) invoke a function, by its policy (pure)
    decision.py         Decision (allowed, reason) and AWS's AccessDenied message
    permissions.py      may_invoke: a function's policy read from moto, for API Gateway and
                        the event sources; refusal_message names the AddPermission that fixes it
    room.py             Iam, owned by the emulator: execution-role credentials minted through
                        STS for each environment, and the check moto's requests pass
                        (harness.aws_state.iam_auth); imported by the emulator when it starts

Configured by ``EmulatorConfig.iam`` (HARNESS_IAM, ``harness up --iam on|all|off``).
"""

from harness.iam.decision import Decision
from harness.iam.permissions import may_invoke, refusal_message

__all__ = ["Decision", "may_invoke", "refusal_message"]
