"""SnapStart in moto's Lambda, which stores nothing of it (GetFunctionConfiguration answers a
fixed ``{ApplyOn: None, OptimizationStatus: Off}``): the setting is kept on moto's function,
validated as AWS does, reported per version, and PublishVersion tells the harness (which
builds the version's snapshot) with the version ``Pending`` until ``set_version_state``.

https://docs.aws.amazon.com/lambda/latest/api/API_SnapStart.html ;
https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html (Python 3.12 and later, zip only).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaFunction, LambdaStorage

APPLY_ON = ("PublishedVersions", "None")
_SETTING = "_harness_snap_start"
_STATE = "_harness_snap_state"
_RUNTIME = re.compile(r"^(python3\.(1[2-9]|[2-9]\d)|java(1[1-9]|[2-9]\d)|dotnet([8-9]|\d\d))")
_installed = threading.Lock()
_done: list[bool] = []
VersionListener = Callable[[Any], None]
_listeners: list[tuple[VersionListener, VersionListener]] = []


@dataclass(frozen=True)
class SnapVersion:
    """A published SnapStart version, as the usage meter needs it."""

    account_id: str
    region: str
    function_name: str
    version: str
    memory_mb: int


VersionObserver = Callable[[str, SnapVersion], None]
"""``observer(event, version)``, event one of "published", "failed", "deleted"."""
_observers: list[VersionObserver] = []


def applies(fn: Any) -> bool:
    """Whether a moto function object is a published version that restores from a snapshot."""
    return (getattr(fn, _SETTING, "None") == "PublishedVersions"
            and str(getattr(fn, "version", "$LATEST")) != "$LATEST")


def add_version_listener(published: VersionListener, deleted: VersionListener) -> None:
    """``published(version_fn)`` hears of each version published with SnapStart (Pending),
    ``deleted(version_fn)`` of each such version deleted (or its function); of several
    listeners, the last added (the emulator started last, as ``moto_invoke``'s sink)."""
    _listeners.append((published, deleted))


def remove_version_listener(published: VersionListener, deleted: VersionListener) -> None:
    if (published, deleted) in _listeners:
        _listeners.remove((published, deleted))


def add_version_observer(observer: VersionObserver) -> None:
    """``observer`` hears of every SnapStart version published, failed or deleted (all
    observers hear: each emulator's usage meter bills the process-wide state it serves)."""
    _observers.append(observer)


def remove_version_observer(observer: VersionObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


def _observed(event: str, fn: Any) -> None:
    version = SnapVersion(fn.account_id, fn.region, fn.function_name, str(fn.version),
                          int(fn.memory_size))
    for observer in list(_observers):
        observer(event, version)


def set_version_state(fn: Any, state: str, reason: str = "", code: str = "") -> None:
    """A published version's State: Pending while its snapshot is made, then Active or Failed
    (with StateReason and StateReasonCode)."""
    fn.state = state
    setattr(fn, _STATE, (reason, code))
    if state == "Failed":  # no snapshot was kept: nothing to bill for caching
        _observed("failed", fn)


def install() -> None:
    """Wrap moto's function init, configuration update and output, and PublishVersion."""
    with _installed:
        if _done:
            return
        LambdaFunction.__init__ = _init(LambdaFunction.__init__)  # type: ignore[method-assign]
        LambdaFunction.update_configuration = _update(  # type: ignore[method-assign,assignment]
            LambdaFunction.update_configuration)
        LambdaFunction.get_configuration = _output(  # type: ignore[method-assign]
            LambdaFunction.get_configuration)
        LambdaStorage.publish_version = _publish(  # type: ignore[method-assign]
            LambdaStorage.publish_version)
        LambdaStorage.del_function = _delete(  # type: ignore[method-assign]
            LambdaStorage.del_function)
        _done.append(True)


def _checked(fn: Any, setting: Any, runtime: Any, package_type: Any) -> str:
    if setting is None:
        return "None"
    apply_on = setting.get("ApplyOn", "None") if isinstance(setting, dict) else setting
    if apply_on not in APPLY_ON:
        raise InvalidParameterValueException(
            f"SnapStart.ApplyOn must be one of {', '.join(APPLY_ON)}, not {apply_on!r}")
    if apply_on == "PublishedVersions" and package_type == "Image":
        raise InvalidParameterValueException(
            "SnapStart is not supported for functions with package type Image")
    if apply_on == "PublishedVersions" and not _RUNTIME.match(str(runtime or "")):
        raise InvalidParameterValueException(
            f"SnapStart is not supported for runtime {runtime}: use python3.12 or later, "
            "java11 or later, or dotnet8")
    return str(apply_on)


def _init(original: Callable[..., None]) -> Callable[..., None]:
    def init(fn: Any, account_id: str, spec: dict[str, Any], region: str,
             version: str | int = 1) -> None:
        setting = _checked(fn, spec.get("SnapStart"), spec.get("Runtime"),
                           spec.get("PackageType"))
        original(fn, account_id, spec, region, version)
        setattr(fn, _SETTING, setting)
    return init


def _update(original: Callable[[Any, dict[str, Any]], dict[str, Any]]
            ) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    def update_configuration(fn: Any, updates: dict[str, Any]) -> dict[str, Any]:
        if "SnapStart" in updates or "Runtime" in updates:
            setting = updates.get("SnapStart", {"ApplyOn": getattr(fn, _SETTING, "None")})
            setattr(fn, _SETTING, _checked(fn, setting, updates.get("Runtime", fn.run_time),
                                           fn.package_type))
            if "SnapStart" in updates:
                fn.code_or_config_updated = True  # PublishVersion makes a new version
        return original(fn, updates)
    return update_configuration


def _output(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def get_configuration(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(fn, *args, **kwargs)
        config["SnapStart"] = {"ApplyOn": getattr(fn, _SETTING, "None"),
                               "OptimizationStatus": "On" if applies(fn) else "Off"}
        reason, code = getattr(fn, _STATE, ("", ""))
        if reason:
            config["StateReason"], config["StateReasonCode"] = reason, code
        return config
    return get_configuration


def _publish(original: Callable[..., Any]) -> Callable[..., Any]:
    def publish_version(storage: Any, name_or_arn: str, description: str = "") -> Any:
        latest = storage.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
        before = len(storage._functions.get(latest.function_name, {}).get("versions", []))
        fn = original(storage, name_or_arn, description)
        after = len(storage._functions.get(latest.function_name, {}).get("versions", []))
        if fn is not None and after > before and applies(fn):
            set_version_state(fn, "Pending", "Lambda is creating the version's snapshot.",
                              "Creating")
            _observed("published", fn)
            listeners = list(_listeners)
            if listeners:  # moto's state is process-wide: the emulator started last builds
                listeners[-1][0](fn)
        return fn
    return publish_version


def _snap_versions(storage: Any) -> list[Any]:
    return [fn for group in storage._functions.values() for fn in group["versions"]
            if applies(fn)]


def _delete(original: Callable[..., None]) -> Callable[..., None]:
    def del_function(storage: Any, name_or_arn: str, qualifier: str | None = None) -> None:
        before = _snap_versions(storage)
        original(storage, name_or_arn, qualifier)
        left = {id(fn) for fn in _snap_versions(storage)}
        listeners = list(_listeners)
        for fn in before:
            if id(fn) not in left:
                _observed("deleted", fn)
                if listeners:
                    listeners[-1][1](fn)
    return del_function
