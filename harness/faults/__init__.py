"""Fault injection: rules that make S3 fail or slow down and Lambda throttle, time out or crash."""

from harness.faults.injector import FaultInjector
from harness.faults.model import FaultRule, parse_rule, parse_rules

__all__ = ["FaultInjector", "FaultRule", "parse_rule", "parse_rules"]
