"""LocalStack's hot-reload convention in moto's Lambda: ``Code: {S3Bucket: hot-reload, S3Key:
/absolute/dir}`` names a local directory used in place; no S3 object is read.

https://docs.localstack.cloud/user-guide/lambda-tools/hot-reloading/ . CreateFunction,
UpdateFunctionCode and CloudFormation's ``AWS::Lambda::Function`` all reach moto's
``LambdaFunction._set_function_code``, so that one method is wrapped here. GetFunction reports
what LocalStack reports for such a function: CodeSha256 ``hot-reloading-hash-not-available``,
CodeSize 0, and ``Code.Location`` ``Code location: <dir>``.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaFunction, LayerVersion

HOT_RELOAD_BUCKET = "hot-reload"
HOT_RELOAD_SHA256 = "hot-reloading-hash-not-available"
# What moto's LayerVersion is built from for a hot-reload layer (it insists on reading a zip).
_EMPTY_ZIP_B64 = base64.b64encode(b"PK\x05\x06" + b"\0" * 18).decode()
_ATTRIBUTE = "_harness_hot_reload_dir"
_installed = threading.Lock()
_done: list[bool] = []


def hot_reload_dir(fn: Any) -> str | None:
    """The local directory a moto ``LambdaFunction`` or ``LayerVersion`` uses in place, or None
    for a package."""
    return getattr(fn, _ATTRIBUTE, None)


def checked_dir(key: Any) -> str:
    """The S3Key of a hot-reload Code as a directory path; a clear error when it is not one."""
    if not isinstance(key, str) or not os.path.isabs(key):
        raise InvalidParameterValueException(
            f"When using hot reloading, the archive key has to be an absolute path! "
            f"Your archive key: {key}")
    path = os.path.normpath(key)
    if not os.path.isdir(path):
        raise InvalidParameterValueException(
            f"Hot reloading: {path} is not a directory on the emulator's machine")
    return path


def install() -> None:
    """Wrap moto's function code setter, GetFunction's Code and layer versions (idempotent)."""
    with _installed:
        if _done:
            return
        setter, getter = _setter(LambdaFunction._set_function_code), _getter(
            LambdaFunction.get_code)
        LambdaFunction._set_function_code = setter  # type: ignore[method-assign,assignment]
        LambdaFunction.get_code = getter  # type: ignore[method-assign,assignment]
        layer_getter = _layer_getter(LayerVersion.get_layer_version)
        LayerVersion.__init__ = _layer_init(LayerVersion.__init__)  # type: ignore[method-assign]
        LayerVersion.get_layer_version = layer_getter  # type: ignore[method-assign,assignment]
        _done.append(True)


def _setter(original: Callable[[Any, dict[str, Any]], None]
            ) -> Callable[[Any, dict[str, Any]], None]:
    def set_function_code(fn: Any, updated_spec: dict[str, Any]) -> None:
        if updated_spec.get("DryRun") or updated_spec.get("S3Bucket") != HOT_RELOAD_BUCKET:
            original(fn, updated_spec)
            if any(k in updated_spec for k in ("ZipFile", "S3Bucket", "ImageUri")):
                setattr(fn, _ATTRIBUTE, None)  # a package replaced the directory
            return
        path = checked_dir(updated_spec.get("S3Key"))
        fn.code = {**fn.code, "S3Bucket": HOT_RELOAD_BUCKET, "S3Key": path}
        fn.code.pop("ZipFile", None)
        fn.code_bytes, fn.code_size, fn.code_sha_256, fn.code_digest = b"", 0, HOT_RELOAD_SHA256, ""
        setattr(fn, _ATTRIBUTE, path)
    return set_function_code


def _getter(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def get_code(fn: Any) -> dict[str, Any]:
        response = original(fn)
        path = hot_reload_dir(fn)
        if path is not None:
            response["Code"] = {"RepositoryType": "S3", "Location": f"Code location: {path}"}
        return response
    return get_code


def _layer_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(layer: Any, spec: dict[str, Any], account_id: str, region: str) -> None:
        content = spec.get("Content") or {}
        if content.get("S3Bucket") != HOT_RELOAD_BUCKET:
            original(layer, spec, account_id, region)
            return
        path = checked_dir(content.get("S3Key"))
        original(layer, {**spec, "Content": {"ZipFile": _EMPTY_ZIP_B64}}, account_id, region)
        layer.content = {"S3Bucket": HOT_RELOAD_BUCKET, "S3Key": path}
        layer.code_bytes, layer.code_size = b"", 0
        layer.code_sha_256, layer.code_digest = HOT_RELOAD_SHA256, ""
        setattr(layer, _ATTRIBUTE, path)
    return init


def _layer_getter(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def get_layer_version(layer: Any) -> dict[str, Any]:
        response = original(layer)
        path = hot_reload_dir(layer)
        if path is not None:
            response["Content"]["Location"] = f"Code location: {path}"
        return response
    return get_layer_version
