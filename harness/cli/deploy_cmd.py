"""``harness deploy``: deploy the example stack (``lambda_fn/template.yaml``) to an endpoint and
print where it is."""

from __future__ import annotations

import argparse
import sys

from harness.cli.aws_confirm import add_where, confirm_real_aws
from harness.cli.options import add_stack_location, endpoint_url
from harness.cli.template_options import add_template_options, deploy_template
from harness.deploy import StackSpec, Target, default_build_dir, deploy
from harness.package import build_package


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "deploy", help="deploy the example stack (bucket, role, function, REST API)",
        description="Deploy the example ML stack from lambda_fn/template.yaml as a "
                    "CloudFormation stack (the function's package uploaded as sam deploy does) "
                    "and print it as JSON (invoke_url, bucket, function_name, api_id, region, "
                    "stack_name). Safe to run twice: an unchanged stack is left as it is.")
    add_where(parser)
    add_stack_location(parser)
    parser.add_argument("--allow-pickle-features", action="store_true",
                        help="let the function read .joblib/.pickle feature files (unsafe: only "
                             "for data you trust; off by default)")
    parser.add_argument("--s3-endpoint-url", type=endpoint_url, default=None,
                        help="S3 served elsewhere, e.g. LocalStack's http://127.0.0.1:4566 in "
                             "docker-compose.yml: the data bucket is made there (not by the "
                             "stack) and the function reads from it")
    parser.add_argument("--image-uri", default=None,
                        help="deploy the function as a container image (PackageType=Image), "
                             "e.g. harness/ml-fn:latest from `harness image build`")
    add_template_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.template is not None:
        return run_template(args)
    spec = StackSpec(region=args.region, bucket=args.bucket,
                     allow_pickle_features=args.allow_pickle_features, image_uri=args.image_uri)
    package = build_package(default_build_dir())
    target = Target(endpoint_url=args.endpoint_url, s3_endpoint_url=args.s3_endpoint_url,
                    profile=args.profile)
    if args.aws:
        from harness.aws_target import plan

        confirm_real_aws(target, spec, "deploy", [str(item) for item in plan(target, spec)],
                         args.yes)
    stack = deploy(target, spec, package,
                   progress=lambda msg: print(f"deploying {msg}", file=sys.stderr))
    print(stack.to_json())
    if args.aws:
        print(f"remove it with: harness destroy --aws --region {spec.region} "
              f"--bucket {spec.bucket}", file=sys.stderr)
    return 0


def run_template(args: argparse.Namespace) -> int:
    """``--template``: the user's own stack, its outputs printed as JSON."""
    target = Target(endpoint_url=args.endpoint_url, profile=args.profile)
    if args.aws:
        confirm_real_aws(target, StackSpec(region=args.region), "deploy",
                         [f"stack {args.stack_name or '(from the directory)'} from "
                          f"{args.template}"], args.yes)
    print(deploy_template(target, args.region, args).to_json())
    return 0
