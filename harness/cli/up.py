"""``harness up``: serve the emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Mapping
from dataclasses import replace

from harness.cli.options import is_loopback, port, positive_int, positive_seconds
from harness.cli.template_options import add_template_options, deploy_template, print_stack
from harness.config import COLD_START_MODES, IAM_MODES, EmulatorConfig, IamConfig
from harness.deploy import Target
from harness.emulator import Emulator
from harness.http_guard import normalise_host_pattern, normalise_origin


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "up", help="serve S3, Lambda, API Gateway, IAM, STS and Logs on one endpoint",
        description="Serve every AWS API the loop needs on one endpoint, in the foreground, "
                    "until Ctrl-C. Functions run through the real Lambda runtime client.")
    parser.add_argument("--host", default=None,
                        help="address to bind (default 127.0.0.1; anything else is reachable "
                             "from other machines and prints a warning)")
    parser.add_argument("--port", type=port, default=None,
                        help="port to bind (default 4566; 0 picks a free one)")
    parser.add_argument("--logs", action="store_true",
                        help="stream every function's START/END/REPORT lines and output here")
    parser.add_argument("--keep-alive", type=positive_seconds, default=None, metavar="SECONDS",
                        help="stop an execution environment after it idled this long "
                             "(default 300; env HARNESS_KEEP_ALIVE)")
    parser.add_argument("--account-concurrency", type=positive_int, default=None, metavar="N",
                        help="concurrent executions across all functions before invocations "
                             "are throttled (default 1000, AWS's quota; env "
                             "HARNESS_ACCOUNT_CONCURRENCY)")
    parser.add_argument("--function-python", default=None, metavar="PATH",
                        help="interpreter that runs zip functions (it needs awslambdaric; "
                             "default: the harness's own; env HARNESS_LAMBDA_PYTHON)")
    parser.add_argument("--allow-host", action="append", type=host_pattern, default=[],
                        metavar="NAME",
                        help="also serve requests whose Host is NAME (*.NAME: any name below "
                             "it); repeatable. Only 127.0.0.1, localhost, [::1], *.localhost, "
                             "*.localhost.localstack.cloud and --host are served otherwise, so "
                             "that a web page that re-points its own name at this machine (DNS "
                             "rebinding) cannot create and run functions here "
                             "(env HARNESS_ALLOWED_HOSTS)")
    parser.add_argument("--allow-origin", action="append", type=origin, default=[],
                        metavar="ORIGIN",
                        help="let web pages of ORIGIN (scheme://host[:port]) call the AWS APIs "
                             "and /_harness/*; repeatable. Only pages on this machine "
                             "(http://localhost:3000, ...) may otherwise, so that any site you "
                             "visit cannot invoke functions or reset state through your browser; "
                             "execute-api URLs serve every origin, with API Gateway's CORS "
                             "(env HARNESS_ALLOWED_ORIGINS)")
    parser.add_argument("--iam", choices=IAM_MODES, default=None,
                        help="on (default): a function's calls with its execution role's "
                             "credentials need the role's permissions, and API Gateway and the "
                             "event sources need the function's resource-based policy, as on "
                             "AWS; all: your own IAM users' and sessions' keys are checked too "
                             "(other keys act as the account's root); off: nothing is checked "
                             "(env HARNESS_IAM)")
    parser.add_argument("--cold-starts", choices=COLD_START_MODES, default=None,
                        help="real (default): each new execution environment runs the "
                             "function's init, as you want when debugging it; template: the "
                             "init runs once per function version and new environments are "
                             "forks of it, each answering first after the Init Duration it "
                             "measured, so a burst of cold starts costs this machine one init "
                             "and clients see AWS's latency (env HARNESS_COLD_STARTS)")
    add_template_options(parser)
    parser.set_defaults(run=run)


def host_pattern(text: str) -> str:
    try:
        return normalise_host_pattern(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def origin(text: str) -> str:
    try:
        return normalise_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def config_from_args(args: argparse.Namespace,
                     environ: Mapping[str, str] | None = None) -> EmulatorConfig:
    """The emulator's configuration: ``HARNESS_*`` variables, then the command line on top."""
    config = EmulatorConfig.from_env(environ)
    overrides: dict[str, object] = {"log_to_console": args.logs}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    lam = config.lambda_
    if args.keep_alive is not None:
        lam = replace(lam, keep_alive_s=args.keep_alive)
    if args.account_concurrency is not None:
        lam = replace(lam, account_concurrency=args.account_concurrency)
    if args.function_python is not None:
        lam = replace(lam, python=args.function_python)
    if args.cold_starts is not None:
        lam = replace(lam, cold_starts=args.cold_starts)
    if args.iam is not None:
        overrides["iam"] = IamConfig(mode=args.iam)
    overrides["allowed_hosts"] = (*config.allowed_hosts, *args.allow_host)
    overrides["allowed_origins"] = (*config.allowed_origins, *args.allow_origin)
    return config.with_overrides(lambda_=lam, **overrides)


def console_logging(verbose: bool) -> None:
    """Show the harness's own log records (why a gateway answered 502, ...) on stderr."""
    logger = logging.getLogger("harness")
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(getattr(h, "harness_console", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("harness: %(levelname)s %(name)s: %(message)s"))
        handler.harness_console = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    console_logging(verbose=args.logs)
    if not is_loopback(config.host):
        print(f"warning: binding {config.host}: the emulator has no authentication and will be "
              "reachable from other machines", file=sys.stderr)
    with Emulator(config) as emulator:
        print(f"harness emulator ready on {emulator.url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL={emulator.url}", flush=True)
        print(f"  health: {emulator.url}/_harness/health   (Ctrl-C to stop)", flush=True)
        if args.template is not None:
            stack = deploy_template(Target(endpoint_url=emulator.url), config.region, args)
            print_stack(stack, emulator.url)
        threading.Event().wait()
    return 0
