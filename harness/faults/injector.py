"""Decides, call by call, whether a fault rule hits; thread-safe and repeatable with a seed."""

from __future__ import annotations

import fnmatch
import random
import threading
from collections import deque
from dataclasses import dataclass, field

from harness.faults.model import FaultRule

HISTORY = 100


@dataclass
class _State:
    rule: FaultRule
    rng: random.Random
    matched: int = 0
    hits: int = 0
    history: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY))
    """The last hit calls' numbers (bounded: a soak hits a rule thousands of times)."""


def _glob(pattern: str | None, value: str | None) -> bool:
    return pattern is None or (value is not None and fnmatch.fnmatchcase(value, pattern))


def matches(rule: FaultRule, target: str, *, operation: str | None = None,
            bucket: str | None = None, key: str | None = None,
            function: str | None = None) -> bool:
    """Whether a call falls under a rule, before rate and counts are considered (pure)."""
    if rule.target != target:
        return False
    if rule.operations and operation not in rule.operations:
        return False
    return (_glob(rule.bucket, bucket) and _glob(rule.key, key)
            and _glob(rule.function, function))


class FaultInjector:
    """Holds the active rules; ``decide`` returns the rule that hits a call, or None."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rules: dict[str, _State] = {}

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules[rule.id] = _State(rule, random.Random(f"{self._seed}:{rule.id}"))
        return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def active(self) -> bool:
        return bool(self._rules)

    def decide(self, target: str, **call: str | None) -> FaultRule | None:
        if not self._rules:  # the common case costs one attribute read
            return None
        with self._lock:
            for state in self._rules.values():
                if not matches(state.rule, target, **call):
                    continue
                state.matched += 1
                if self._hits(state):
                    state.hits += 1
                    state.history.append(state.matched)
                    return state.rule
        return None

    @staticmethod
    def _hits(state: _State) -> bool:
        rule = state.rule
        if rule.times is not None and state.hits >= rule.times:
            return False
        if rule.calls:
            return state.matched in rule.calls
        return rule.rate >= 1.0 or state.rng.random() < rule.rate

    def report(self) -> list[dict[str, object]]:
        """Each rule with how many calls matched it and which of them it hit."""
        with self._lock:
            return [{**s.rule.to_json(), "matched": s.matched, "hits": s.hits,
                     "hit_calls": list(s.history)} for s in self._rules.values()]
