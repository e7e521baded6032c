"""Asynchronous invocation's configuration in moto's Lambda, as AWS keeps it.

moto 5.2.6 serves the event invoke config API but keeps one config per function whatever the
qualifier, appends on every Put (so a second Put is never read back), makes Update a Put, checks
no destination's service, and drops a function's ``DeadLetterConfig``. Its five response methods
and three of ``LambdaFunction``'s are replaced here: configs live per qualifier on the function's
``$LATEST`` object (they go with the function, and with moto's reset), the dead-letter target on
each version's object (a published version keeps its own, as on AWS).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import JsonRESTError

from harness.errors import AwsError, InvalidParameterError, ResourceNotFoundError
from harness.lambda_.event_config import (
    AsyncSettings,
    check_dead_letter,
    check_event_invoke_config,
    merged,
    settings_from,
)
from harness.lambda_.invoke_params import parse_function_name

_CONFIGS = "_harness_event_invoke_configs"
"""On a $LATEST LambdaFunction: {qualifier: (config, last_modified)}."""
_DEAD_LETTER = "_harness_dead_letter_target"
_installed = threading.Lock()
_done: list[bool] = []
_LATEST = "$LATEST"


def install() -> None:
    """Replace moto's event invoke config API and keep DeadLetterConfig (idempotent)."""
    with _installed:
        if _done:
            return
        for name, handler in (("put_function_event_invoke_config", _put),
                              ("update_function_event_invoke_config", _update),
                              ("get_function_event_invoke_config", _get),
                              ("delete_function_event_invoke_config", _delete),
                              ("list_function_event_invoke_configs", _list)):
            setattr(LambdaResponse, name, _answering(handler))
        LambdaFunction.__init__ = _init(LambdaFunction.__init__)  # type: ignore[method-assign]
        LambdaFunction.update_configuration = _update_configuration(  # type: ignore[method-assign,assignment]
            LambdaFunction.update_configuration)
        LambdaFunction.get_configuration = _get_configuration(  # type: ignore[method-assign]
            LambdaFunction.get_configuration)
        _done.append(True)


# -- read by the asynchronous queue --------------------------------------------------------------

def async_settings(account: str, region: str, name: str, qualifier: str) -> AsyncSettings | None:
    """The settings an event for ``name:qualifier`` runs under now; None when the function (or
    that version or alias) is gone."""
    try:
        backend = lambda_backends[account][region]
        latest = backend.get_function(name)
        version = latest if qualifier == _LATEST else backend.get_function(name, qualifier)
    except (KeyError, JsonRESTError):
        return None
    stored = getattr(latest, _CONFIGS, {}).get(qualifier)
    reserved = latest.reserved_concurrency
    return settings_from(stored[0] if stored else None, getattr(version, _DEAD_LETTER, None),
                         None if reserved is None else int(reserved))


def put_event_invoke_config(account: str, region: str, function: str, qualifier: str,
                            body: dict[str, Any]) -> None:
    """Store a config as PutFunctionEventInvokeConfig does (CloudFormation's
    AWS::Lambda::EventInvokeConfig); AWS's errors as harness AwsErrors."""
    named = parse_function_name(function)
    try:
        latest = lambda_backends[account][region].get_function(named.name)
        if qualifier != _LATEST:
            lambda_backends[account][region].get_function(named.name, qualifier)
    except (KeyError, JsonRESTError):
        raise ResourceNotFoundError("The function doesn't exist.") from None
    arn = f"arn:aws:lambda:{region}:{account}:function:{named.name}:{qualifier}"
    _configs(latest)[qualifier] = (check_event_invoke_config(body, arn), time.time())


def delete_event_invoke_config(account: str, region: str, function: str,
                               qualifier: str) -> None:
    """Remove a config if it is there (the function may have gone first)."""
    try:
        latest = lambda_backends[account][region].get_function(
            parse_function_name(function).name)
    except (KeyError, JsonRESTError):
        return
    _configs(latest).pop(qualifier, None)


# -- the API -------------------------------------------------------------------------------------

def _answering(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def method(response: Any) -> Any:
        try:
            return handler(response)
        except AwsError as error:
            refusal = LambdaClientError(error.code, error.message)
            refusal.code = error.status
            raise refusal from None
    return method


def _target(response: Any) -> tuple[Any, str, str]:
    """(the function's $LATEST object, the qualifier, the qualified ARN) a request names."""
    path = urlparse(response.path).path
    name_part = path.split("/functions/", 1)[1].split("/event-invoke-config", 1)[0]
    named = parse_function_name(unquote(name_part))
    given = (response.querystring.get("Qualifier") or [None])[0]
    if given and named.qualifier and given != named.qualifier:
        raise InvalidParameterError(
            "The derived qualifier from the function name does not match the specified "
            "qualifier.")
    qualifier = given or named.qualifier or _LATEST
    backend = lambda_backends[response.current_account][response.region]
    try:
        latest = backend.get_function(named.name)
        if qualifier != _LATEST:
            backend.get_function(named.name, qualifier)
    except JsonRESTError:
        latest = None
    arn = f"arn:aws:lambda:{response.region}:{response.current_account}:function:{named.name}"
    return latest, qualifier, f"{arn}:{qualifier}"


def _shown(qualified_arn: str, entry: tuple[dict[str, Any], float]) -> dict[str, Any]:
    config, last_modified = entry
    return {"LastModified": last_modified, "FunctionArn": qualified_arn, **config}


def _configs(latest: Any) -> dict[str, tuple[dict[str, Any], float]]:
    configs = getattr(latest, _CONFIGS, None)
    if configs is None:
        configs = {}
        setattr(latest, _CONFIGS, configs)
    return configs


def _stored(response: Any) -> tuple[Any, str, str, tuple[dict[str, Any], float]]:
    latest, qualifier, arn = _target(response)
    entry = _configs(latest).get(qualifier) if latest is not None else None
    if entry is None:
        raise ResourceNotFoundError(f"The function {arn} doesn't have an EventInvokeConfig")
    return latest, qualifier, arn, entry


def _put(response: Any) -> tuple[int, dict[str, Any], str]:
    latest, qualifier, arn = _target(response)
    if latest is None:
        raise ResourceNotFoundError("The function doesn't exist.")
    entry = (check_event_invoke_config(response.json_body, arn), time.time())
    _configs(latest)[qualifier] = entry
    return _json(_shown(arn, entry))


def _update(response: Any) -> tuple[int, dict[str, Any], str]:
    latest, qualifier, arn, (current, _modified) = _stored(response)
    body = response.json_body
    entry = (merged(current, body, check_event_invoke_config(body, arn)), time.time())
    _configs(latest)[qualifier] = entry
    return _json(_shown(arn, entry))


def _get(response: Any) -> tuple[int, dict[str, Any], str]:
    _latest, _qualifier, arn, entry = _stored(response)
    return _json(_shown(arn, entry))


def _delete(response: Any) -> tuple[int, dict[str, Any], str]:
    latest, qualifier, _arn, _entry = _stored(response)
    del _configs(latest)[qualifier]
    return 204, {"status": 204}, ""


def _list(response: Any) -> tuple[int, dict[str, Any], str]:
    latest, _qualifier, arn = _target(response)
    if latest is None:
        raise ResourceNotFoundError("The function doesn't exist.")
    unqualified = arn.rsplit(":", 1)[0]
    items = [_shown(f"{unqualified}:{qualifier}", entry)
             for qualifier, entry in sorted(_configs(latest).items())]
    return _json({"FunctionEventInvokeConfigs": items})


def _json(document: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    return 200, {"status": 200, "Content-Type": "application/json"}, json.dumps(document)


# -- DeadLetterConfig on the function ------------------------------------------------------------

def _checked_dead_letter(config: Any) -> str | None:
    try:
        return check_dead_letter(config)
    except AwsError as error:
        raise LambdaClientError(error.code, error.message) from None


def _init(original: Callable[..., None]) -> Callable[..., None]:
    def init(fn: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        target = _checked_dead_letter(spec.get("DeadLetterConfig"))  # refused before creation
        original(fn, account_id, spec, *args, **kwargs)
        setattr(fn, _DEAD_LETTER, target)
    return init


def _update_configuration(original: Callable[[Any, dict[str, Any]], dict[str, Any]]
                          ) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    def update_configuration(fn: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        given = "DeadLetterConfig" in config_updates
        target = _checked_dead_letter(config_updates.get("DeadLetterConfig")) if given else None
        original(fn, config_updates)
        if given:
            setattr(fn, _DEAD_LETTER, target)
        return dict(fn.get_configuration())
    return update_configuration


def _get_configuration(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def get_configuration(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(fn, *args, **kwargs)
        target = getattr(fn, _DEAD_LETTER, None)
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config
    return get_configuration
