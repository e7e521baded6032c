"""``harness deploy``: deploy the example stack to an endpoint and print where it is."""

from __future__ import annotations

import argparse
import sys

from harness.cli.options import endpoint_url
from harness.deploy import StackSpec, Target, default_build_dir, deploy
from harness.package import build_package


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "deploy", help="deploy the example stack (bucket, role, function, REST API)",
        description="Deploy the example ML stack with boto3 calls only and print it as JSON "
                    "(invoke_url, bucket, function_name, api_id, region). Safe to run twice.")
    parser.add_argument("--endpoint-url", type=endpoint_url, required=True,
                        help="the emulator's endpoint, e.g. http://127.0.0.1:4566")
    defaults = StackSpec()
    parser.add_argument("--region", default=defaults.region,
                        help=f"region of the stack (default {defaults.region})")
    parser.add_argument("--bucket", default=defaults.bucket,
                        help=f"data bucket (default {defaults.bucket})")
    parser.add_argument("--allow-pickle-features", action="store_true",
                        help="let the function read .joblib/.pickle feature files (unsafe: only "
                             "for data you trust; off by default)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec = StackSpec(region=args.region, bucket=args.bucket,
                     allow_pickle_features=args.allow_pickle_features)
    package = build_package(default_build_dir())
    stack = deploy(Target(endpoint_url=args.endpoint_url), spec, package,
                   progress=lambda msg: print(f"deploying {msg}", file=sys.stderr))
    print(stack.to_json())
    return 0
