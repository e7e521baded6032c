"""Entry point of the ``harness`` command: dispatch, one-line errors, clean Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness import interrupts
from harness.errors import HarnessError

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from harness.cli import cost, demo, deploy_cmd, destroy, image, load, run, up

    parser = argparse.ArgumentParser(
        prog="harness",
        description="Run the S3 -> API Gateway -> Lambda (scikit-learn) loop on this machine, "
                    "offline, with no AWS account and no Docker.",
        epilog="Start with `harness demo`. Each command has its own --help.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (up, deploy_cmd, destroy, demo, image, run, load, cost):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # SIGTERM stops as cleanly as Ctrl-C: every `with` block below unwinds and stops its children.
    with interrupts.handled():
        try:
            return int(args.run(args) or 0)
        except HarnessError as error:
            print(f"harness {args.command}: error: {error.message}", file=sys.stderr)
            return error.exit_code
        except KeyboardInterrupt:
            print(f"harness {args.command}: interrupted, stopped everything", file=sys.stderr)
            return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
