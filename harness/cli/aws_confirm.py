"""The guard in front of every command that changes real AWS: show where, what, then confirm."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.deploy import StackSpec, Target
from harness.errors import UsageError


def add_where(parser: argparse.ArgumentParser) -> None:
    """``--endpoint-url URL`` (an emulator) or ``--aws`` (real AWS); ``--profile``, ``--yes``."""
    from harness.cli.options import endpoint_url

    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint-url", type=endpoint_url,
                       help="an emulator's endpoint, e.g. http://127.0.0.1:4566")
    where.add_argument("--aws", action="store_true",
                       help="real AWS, with your credentials: the plan, region and account are "
                            "printed first and you confirm (or pass --yes)")
    parser.add_argument("--profile", default=None, help="AWS profile to use with --aws")
    parser.add_argument("--yes", action="store_true",
                        help="with --aws: go ahead without asking (for scripts)")


def confirm_real_aws(target: Target, spec: StackSpec, action: str, lines: Sequence[str],
                     yes: bool) -> str:
    """Print the account, region and what will change; return the account once confirmed."""
    from harness.aws_target import account_of

    account = account_of(target, spec.region)
    print(f"harness {action}: REAL AWS, account {account}, region {spec.region}"
          f"{f', profile {target.profile}' if target.profile else ''}", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    if yes:
        return account
    if not sys.stdin.isatty():
        raise UsageError(f"{action} on real AWS needs a confirmation: run it in a terminal, or "
                         "add --yes")
    answer = input(f"type the account id ({account}) to {action}: ").strip()
    if answer != account:
        raise UsageError("not confirmed; nothing was changed")
    return account
