"""``harness up``: serve the emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

from harness.cli.options import is_loopback, port
from harness.config import EmulatorConfig
from harness.emulator import Emulator


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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = EmulatorConfig.from_env()
    overrides: dict[str, object] = {"log_to_console": args.logs}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    config = config.with_overrides(**overrides)
    if not is_loopback(config.host):
        print(f"warning: binding {config.host}: the emulator has no authentication and will be "
              "reachable from other machines", file=sys.stderr)
    with Emulator(config) as emulator:
        print(f"harness emulator ready on {emulator.url}", flush=True)
        print(f"  export AWS_ENDPOINT_URL={emulator.url}", flush=True)
        print(f"  health: {emulator.url}/_harness/health   (Ctrl-C to stop)", flush=True)
        threading.Event().wait()
    return 0
