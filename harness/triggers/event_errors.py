"""EventBridge's own error codes, as subclasses of the harness's one root (``AwsError``).

The moto adapter (``aws_state.events_rules``) turns them into moto's JSON error at the edge, so
a client sees AWS's code and message.
"""

from __future__ import annotations

from harness.errors import AwsError


class EventsValidationError(AwsError):
    """400 ValidationException: a parameter of an EventBridge call is not valid."""

    code = "ValidationException"
    status = 400
    error_type = "User"


class InvalidEventPatternError(AwsError):
    """400 InvalidEventPatternException: ``Event pattern is not valid. Reason: ...``."""

    code = "InvalidEventPatternException"
    status = 400
    error_type = "User"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Event pattern is not valid. Reason: {reason}")
