"""What the CloudFormation models of harness.aws_state share: their declared names, property
checks and tags."""

from __future__ import annotations

from typing import Any, ClassVar


class Declared:
    """Mixed in before ``CloudFormationModel``: the type, its name property and its ``GetAtt``
    attributes as class attributes, where moto's interface asks for a method each.

    A mixin, not a base class: moto finds types among ``CloudFormationModel``'s *direct*
    subclasses only (``parsing.get_model_list``).
    """

    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> None:
        """moto deletes a stack's resources through their instances' ``delete()``; this class
        path is never taken for the types declared here."""
        raise NotImplementedError("deleted through the instance's delete()")


class ReplacedOnUpdate:
    """Mixed in before ``CloudFormationModel``: an update deletes the resource and makes it again
    from the new properties (the old one has a ``delete(account_id, region_name)``)."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name)


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
