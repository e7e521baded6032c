"""Event patterns (EventBridge's syntax, which Lambda's FilterCriteria use) matched by moto's
own matcher: exact values, prefix, suffix, anything-but, numeric, exists, cidr, wildcard, $or.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.events.models import EventPattern, EventPatternParser


def compile_pattern(text: Any) -> Callable[[dict[str, Any]], bool]:
    """A predicate for one pattern's JSON text; ``ValueError`` names what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a pattern must be JSON text")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ValueError("a pattern must be a JSON object")
    try:
        EventPatternParser(text)._validate_event_pattern(parsed)
    except Exception as error:  # moto's InvalidEventPatternException
        raise ValueError(getattr(error, "message", str(error))) from None
    pattern = EventPattern(text, parsed)

    def matches(event: dict[str, Any]) -> bool:
        return pattern.matches_event(event)  # type: ignore[arg-type]

    return matches
