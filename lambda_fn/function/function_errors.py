"""Errors of the example function: client errors carry their HTTP status and short code.

Exception
 +-- RequestError                 a caller's mistake; becomes a 4xx proxy result
 |    +-- (400) EmptyBody, InvalidJSON, InvalidRequestBody, MissingField, InvalidFieldType,
 |    |         InvalidBucketName, InvalidKey, UnreadableFeatures, WrongShape, EmptyMatrix,
 |    |         WrongFeatureCount, WrongDtype, NonFiniteValues
 |    +-- (403) AllowlistNotConfigured, BucketNotAllowed, AccessDenied
 |    +-- (404) NoSuchKey, NoSuchBucket
 |    +-- (413) ObjectTooLarge, DecompressedTooLarge, TooManyRows, TooManyValues
 |    +-- (415) UnsupportedFormat, PickleNotAllowed
 +-- ModelLoadError               raised at init: the deployment itself is broken
      +-- ModelNotFound
      +-- ModelVersionMismatch
"""

from __future__ import annotations

from typing import ClassVar


class RequestError(Exception):
    """A request the function refuses; `status` and `code` go to the client with the message."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyBody(RequestError):
    code = "EmptyBody"


class InvalidJSON(RequestError):
    code = "InvalidJSON"


class InvalidRequestBody(RequestError):
    code = "InvalidRequestBody"


class MissingField(RequestError):
    code = "MissingField"


class InvalidFieldType(RequestError):
    code = "InvalidFieldType"


class InvalidBucketName(RequestError):
    code = "InvalidBucketName"


class InvalidKey(RequestError):
    code = "InvalidKey"


class UnreadableFeatures(RequestError):
    code = "UnreadableFeatures"


class WrongShape(RequestError):
    code = "WrongShape"


class EmptyMatrix(RequestError):
    code = "EmptyMatrix"


class WrongFeatureCount(RequestError):
    code = "WrongFeatureCount"


class WrongDtype(RequestError):
    code = "WrongDtype"


class NonFiniteValues(RequestError):
    code = "NonFiniteValues"


class AllowlistNotConfigured(RequestError):
    status = 403
    code = "AllowlistNotConfigured"


class BucketNotAllowed(RequestError):
    status = 403
    code = "BucketNotAllowed"


class AccessDenied(RequestError):
    status = 403
    code = "AccessDenied"


class NoSuchKey(RequestError):
    status = 404
    code = "NoSuchKey"


class NoSuchBucket(RequestError):
    status = 404
    code = "NoSuchBucket"


class ObjectTooLarge(RequestError):
    status = 413
    code = "ObjectTooLarge"


class DecompressedTooLarge(RequestError):
    status = 413
    code = "DecompressedTooLarge"


class TooManyRows(RequestError):
    status = 413
    code = "TooManyRows"


class TooManyValues(RequestError):
    status = 413
    code = "TooManyValues"


class UnsupportedFormat(RequestError):
    status = 415
    code = "UnsupportedFormat"


class PickleNotAllowed(RequestError):
    status = 415
    code = "PickleNotAllowed"


class ModelLoadError(Exception):
    """The model shipped with the function cannot be used; raised at init, never per request."""


class ModelNotFound(ModelLoadError):
    """model.joblib or model.json is missing or unreadable."""


class ModelVersionMismatch(ModelLoadError):
    """The model was trained with a scikit-learn version other than the runtime's."""
