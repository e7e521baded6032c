"""``harness destroy``: remove the example stack (its CloudFormation stack: API, function, role,
bucket and its objects), or with ``--stack NAME`` any CloudFormation stack on any endpoint."""

from __future__ import annotations

import argparse
import sys

from harness.cli.aws_confirm import add_where, confirm_real_aws
from harness.cli.options import add_stack_location
from harness.deploy import StackSpec, Target
from harness.templates.deployer import TemplateDeployer


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "destroy", help="remove what `harness deploy` made (API, function, role, bucket)",
        description="Delete the example stack (a CloudFormation stack from "
                    "lambda_fn/template.yaml): its data bucket is emptied, then the stack with "
                    "its REST API, function and IAM role, and the package it uploaded. Anything "
                    "already gone is skipped. With --stack, delete that CloudFormation stack "
                    "instead and wait for DELETE_COMPLETE.")
    add_where(parser)
    add_stack_location(parser)
    parser.add_argument("--stack", default=None, metavar="NAME",
                        help="delete this CloudFormation stack (e.g. one `harness deploy "
                             "--template` made) and everything it made")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.stack is not None:
        return run_stack(args)
    from harness.aws_target import destroy, plan

    spec = StackSpec(region=args.region, bucket=args.bucket)
    target = Target(endpoint_url=args.endpoint_url, profile=args.profile)
    if args.aws:
        existing = [f"delete {item.kind} {item.name}" for item in plan(target, spec)
                    if item.action != "create"]
        if not existing:
            print("nothing to destroy: no resource of the stack exists", file=sys.stderr)
            return 0
        confirm_real_aws(target, spec, "destroy", existing, args.yes)
    removed = destroy(target, spec, progress=lambda msg: print(f"deleting {msg}",
                                                                 file=sys.stderr))
    print("removed: " + (", ".join(removed) if removed else "nothing (already gone)"))
    return 0


def run_stack(args: argparse.Namespace) -> int:
    """``--stack NAME``: DeleteStack, then its events as progress until DELETE_COMPLETE."""
    target = Target(endpoint_url=args.endpoint_url, profile=args.profile)
    if args.aws:
        confirm_real_aws(target, StackSpec(region=args.region), "destroy",
                         [f"delete stack {args.stack} and every resource it made"], args.yes)
    deployer = TemplateDeployer(lambda service: target.client(service, args.region), args.region,
                                progress=lambda msg: print(f"deleting {msg}", file=sys.stderr))
    print(f"stack {args.stack}: {deployer.delete(args.stack)}")
    return 0
