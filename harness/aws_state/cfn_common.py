"""What the CloudFormation models of harness.aws_state share: property checks and tags."""

from __future__ import annotations

from typing import Any


class PropertyError(Exception):
    """A resource's properties are invalid; the message is CloudFormation's reason for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def require(properties: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if properties.get(name) in (None, "", {})]
    if missing:
        raise PropertyError("Properties validation failed: required key(s) "
                            f"[{', '.join(missing)}] not found")


def tags_map(value: Any) -> dict[str, str]:
    if isinstance(value, list):  # CloudFormation's [{Key, Value}] into CreateFunction's map
        return {str(tag.get("Key")): str(tag.get("Value")) for tag in value}
    return dict(value or {})
