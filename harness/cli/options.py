"""Argument types shared by several commands."""

from __future__ import annotations

import argparse
import ipaddress


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(
            f"endpoint URL must start with http:// or https://: {text!r}")
    return text.rstrip("/")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_stack_location(parser: argparse.ArgumentParser) -> None:
    """--region and --bucket of the example stack, with StackSpec's defaults."""
    from harness.deploy import StackSpec

    defaults = StackSpec()
    parser.add_argument("--region", default=defaults.region,
                        help=f"region of the stack (default {defaults.region})")
    parser.add_argument("--bucket", default=defaults.bucket,
                        help=f"data bucket (default {defaults.bucket})")
