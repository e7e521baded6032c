"""moto's function URL configs, made as AWS makes them and served where LocalStack serves them.

moto makes ``https://<32 hex>.lambda-url.<region>.on.aws``, which nothing serves, keeps no
ListFunctionUrlConfigs, overwrites a URL on a second create, and keeps AddPermission's
``FunctionUrlAuthType``/``InvokedViaFunctionUrl`` as raw keys. Here the URL is LocalStack's
``http://<url-id>.lambda-url.<region>.localhost.localstack.cloud:<port>/`` (the port of the
emulator started last), and the rest answers as AWS does. ``find`` and ``caller`` are what the
data plane (``harness.triggers.function_urls``) reads.

moto is imported inside the functions: it costs seconds, paid when an emulator starts.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

URL_HOST_SUFFIX = "localhost.localstack.cloud"
DEFAULT_PORT = 4566
"""The port a URL names while no emulator runs (LocalStack's)."""
AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_URL_ID_LENGTH = 32  # AWS's url ids are 32 lower-case letters and digits
_LIST_PATH = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"
_QUALIFIER = re.compile(r"(?!\d+$)[0-9a-zA-Z_-]+")

PortSource = Callable[[], "int | None"]
_ports: list[PortSource] = []
_lock = threading.Lock()
_installed = False


@dataclass(frozen=True)
class UrlConfig:
    """A function URL as the data plane needs it, copied out of moto's state."""

    url_id: str
    region: str
    account_id: str
    function_arn: str
    """The function's unqualified ARN: the URL invokes ``$LATEST``."""
    auth_type: str
    cors: dict[str, Any] | None
    invoke_mode: str
    statements: tuple[dict[str, Any], ...]
    """The function's resource-based policy statements."""
    reserved_concurrency: int | None


@dataclass(frozen=True)
class Caller:
    """Who an access key belongs to, as STS GetCallerIdentity answers in moto."""

    access_key: str
    account_id: str
    arn: str
    user_id: str
    secret_key: str | None
    """Known only for keys moto issued (IAM users' keys, STS credentials)."""


def install(port: PortSource) -> Callable[[], None]:
    """Patch moto once; URLs name ``port()`` until the returned call takes it away."""
    global _installed
    with _lock:
        if not _installed:
            _patch_moto()
            _installed = True
        _ports.append(port)

    def uninstall() -> None:
        with _lock:
            if port in _ports:
                _ports.remove(port)

    return uninstall


def public_url(url_id: str, region: str) -> str:
    """The URL a function URL is served at, with the trailing slash AWS's URLs have."""
    with _lock:
        source = _ports[-1] if _ports else None
    port = (source() if source is not None else None) or DEFAULT_PORT
    return f"http://{url_id}.lambda-url.{region}.{URL_HOST_SUFFIX}:{port}/"


def find(url_id: str, region: str) -> UrlConfig | None:
    """The function URL with this id in ``region`` (any account), or None."""
    from moto.awslambda.models import lambda_backends

    wanted = url_id.lower()  # host names are not case-sensitive
    for _account, regions in list(lambda_backends.items()):
        for name, backend in list(regions.items()):
            if name != region:
                continue
            for fn in list(backend.list_functions()):
                for holder in (fn, *backend.list_aliases(fn.function_name)):
                    config = getattr(holder, "url_config", None)
                    if config is not None and getattr(config, "url_id", "") == wanted:
                        return _snapshot(backend, fn, config)
    return None


def _snapshot(backend: Any, fn: Any, config: Any) -> UrlConfig:
    # An alias's permissions live in the policy of the version it points to, scoped to it.
    policy = (fn if config.qualifier is None
              else backend.get_function(fn.function_name, config.qualifier)).policy
    reserved = fn.reserved_concurrency
    return UrlConfig(
        url_id=config.url_id, region=fn.region, account_id=fn.account_id,
        function_arn=config.function_arn, auth_type=str(config.config.get("AuthType") or "NONE"),
        cors=dict(config.config["Cors"]) if config.config.get("Cors") else None,
        invoke_mode=str(config.config.get("InvokeMode") or "BUFFERED"),
        statements=tuple(json.loads(json.dumps(policy.statements))),
        reserved_concurrency=None if reserved is None else int(reserved))


def caller(access_key: str, region: str) -> Caller:
    """The identity behind ``access_key``: an IAM user's or an assumed role's when moto issued
    the key, else moto's stand-in for a key it does not know (any key is accepted)."""
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    user_id, arn, account = sts_backends[account]["global"].get_caller_identity(
        access_key, region)
    secret = None
    for partition in list(iam_backends[account].keys()):
        key = iam_backends[account][partition].access_keys.get(access_key)
        if key is not None:
            secret = key.secret_access_key
    assumed = sts_backends[account]["global"].get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        secret = assumed.secret_access_key
    return Caller(access_key, account, arn, user_id, secret)


# -- the patches -------------------------------------------------------------------------------

def _patch_moto() -> None:
    from moto.awslambda import urls
    from moto.awslambda.models import FunctionUrlConfig, LambdaFunction
    from moto.awslambda.policy import Policy
    from moto.awslambda.responses import LambdaResponse

    FunctionUrlConfig.__init__ = _config_init  # type: ignore[method-assign]
    FunctionUrlConfig.url = property(_config_url)  # type: ignore[assignment]
    FunctionUrlConfig.function_arn = property(_config_arn)  # type: ignore[attr-defined]
    FunctionUrlConfig.to_dict = _config_to_dict  # type: ignore[method-assign]
    FunctionUrlConfig.update = _config_update  # type: ignore[method-assign]
    # CloudFormation's AWS::Lambda::Url reaches these through moto's backend.
    LambdaFunction.create_url_config = _create_url_config  # type: ignore[method-assign]
    LambdaFunction.delete_url_config = _delete_url_config  # type: ignore[method-assign]
    LambdaFunction.update_url_config = _update_url_config  # type: ignore[method-assign]
    # The API: a Qualifier (an alias) names another URL; moto ignores it.
    responses = {"create_function_url_config": _create_response,
                 "get_function_url_config": _get_response,
                 "update_function_url_config": _update_response,
                 "delete_function_url_config": _delete_response,
                 "list_function_url_configs": _list_response}
    for name, method in responses.items():
        setattr(LambdaResponse, name, method)
    # moto reads url_paths when it makes its Lambda app, which an emulator does after this.
    urls.url_paths.setdefault(_LIST_PATH, LambdaResponse.dispatch)
    original_decode = Policy.decode_policy

    def decode_policy(self: Any, obj: dict[str, Any]) -> Any:
        policy = original_decode(self, obj)
        _url_conditions(policy.statements[0])
        return policy

    Policy.decode_policy = decode_policy  # type: ignore[method-assign]


def _validation_error(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("ValidationException", f"1 validation error detected: {message}")


def _check(config: dict[str, Any], *, creating: bool) -> None:
    """AWS's validation of a URL config (AWS-recorded message for InvokeMode)."""
    auth = config.get("AuthType")
    if (creating or auth is not None) and auth not in AUTH_TYPES:
        raise _validation_error(
            f"Value '{auth}' at 'authType' failed to satisfy constraint: Member must satisfy "
            "enum value set: [AWS_IAM, NONE]")
    mode = config.get("InvokeMode")
    if mode is not None and mode not in INVOKE_MODES:
        raise _validation_error(
            f"Value '{mode}' at 'invokeMode' failed to satisfy constraint: Member must satisfy "
            "enum value set: [RESPONSE_STREAM, BUFFERED]")
    cors = config.get("Cors")
    if cors is not None and not isinstance(cors, dict):
        raise _validation_error("Value at 'cors' failed to satisfy constraint: not a structure")


def _now() -> str:
    from moto.core.utils import utcnow

    return str(utcnow().strftime(_TIME_FORMAT))


def _config_init(self: Any, function: Any, config: dict[str, Any]) -> None:
    self.function = function
    self.qualifier = None  # the alias the URL invokes; None: the function itself ($LATEST)
    self.config = {k: config[k] for k in ("AuthType", "Cors", "InvokeMode") if k in config}
    self.url_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_URL_ID_LENGTH))
    self.created = _now()
    self.last_modified = self.created


def _config_url(self: Any) -> str:
    return public_url(self.url_id, self.function.region)


def _config_arn(self: Any) -> str:
    arn = str(self.function.function_arn)
    return arn if self.qualifier is None else f"{arn}:{self.qualifier}"


def _config_to_dict(self: Any) -> dict[str, Any]:
    made = {"FunctionUrl": self.url, "FunctionArn": self.function_arn,
            "AuthType": self.config.get("AuthType"), "CreationTime": self.created,
            "LastModifiedTime": self.last_modified,
            "InvokeMode": self.config.get("InvokeMode") or "BUFFERED"}
    if self.config.get("Cors"):
        made["Cors"] = self.config["Cors"]
    return made


def _config_update(self: Any, new_config: dict[str, Any]) -> None:
    _check(new_config, creating=False)
    for key in ("AuthType", "Cors", "InvokeMode"):
        if key in new_config:  # an empty Cors clears it
            self.config[key] = new_config[key]
    self.last_modified = _now()


def _create_on(holder: Any, fn: Any, config: dict[str, Any]) -> Any:
    """A new URL config kept on ``holder``: the function ``fn`` itself, or an alias of it."""
    from moto.awslambda.models import FunctionUrlConfig
    from moto.core.exceptions import JsonRESTError

    _check(config, creating=True)  # a bad request is refused before the state is looked at
    qualifier = None if holder is fn else holder.name
    if getattr(holder, "url_config", None) is not None:
        arn = fn.function_arn if qualifier is None else f"{fn.function_arn}:{qualifier}"
        raise JsonRESTError(
            "ResourceConflictException",
            f"Failed to create function url config for [functionArn = {arn}]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function")
    made = FunctionUrlConfig(function=fn, config=config)
    made.qualifier = qualifier  # type: ignore[attr-defined]
    holder.url_config = made
    return made


def _existing(holder: Any) -> Any:
    from moto.awslambda.exceptions import GenericResourcNotFound

    config = getattr(holder, "url_config", None)
    if config is None:
        raise GenericResourcNotFound()
    return config


def _create_url_config(self: Any, config: dict[str, Any]) -> Any:
    return _create_on(self, self, config)


def _delete_url_config(self: Any) -> None:
    _existing(self)
    self.url_config = None


def _update_url_config(self: Any, config: dict[str, Any]) -> Any:
    made = _existing(self)
    made.update(config)
    return made


def _target(response: Any) -> tuple[Any, Any]:
    """(what keeps the URL config, the function) of a request: the function, or the alias its
    ``Qualifier`` names ("The alias name": a version number is not one)."""
    name = unquote(response.path.rstrip("/").split("/")[-2])
    qualifier = response.querystring.get("Qualifier", [None])[0]
    fn = response.backend.get_function(name)
    if qualifier is None:
        return fn, fn
    if not _QUALIFIER.fullmatch(qualifier):
        raise _validation_error(
            f"Value '{qualifier}' at 'qualifier' failed to satisfy constraint: Member must "
            r"satisfy regular expression pattern: ((?!^\d+$)^[0-9a-zA-Z-_]+$)")
    return response.backend.get_alias(qualifier, fn.function_name), fn


def _create_response(self: Any) -> tuple[int, dict[str, Any], str]:
    holder, fn = _target(self)
    return 201, {"status": 201}, json.dumps(_create_on(holder, fn, self.json_body).to_dict())


def _get_response(self: Any) -> tuple[int, dict[str, Any], str]:
    return 200, {"status": 200}, json.dumps(_existing(_target(self)[0]).to_dict())


def _update_response(self: Any) -> tuple[int, dict[str, Any], str]:
    made = _existing(_target(self)[0])
    made.update(self.json_body)
    return 200, {"status": 200}, json.dumps(made.to_dict())


def _delete_response(self: Any) -> tuple[int, dict[str, Any], str]:
    holder = _target(self)[0]
    _existing(holder)
    holder.url_config = None
    return 204, {"status": 204}, ""


def _list_response(self: Any) -> str:
    name = unquote(self.path.rstrip("/").split("/")[-2])
    fn = self.backend.get_function(name)
    holders = (fn, *self.backend.list_aliases(fn.function_name))
    configs = [h.url_config.to_dict() for h in holders if getattr(h, "url_config", None)]
    return json.dumps({"FunctionUrlConfigs": configs})


def _url_conditions(statement: dict[str, Any]) -> None:
    """AddPermission's function-URL keys as the conditions AWS shows in GetPolicy."""
    conditions: dict[str, dict[str, Any]] = statement.get("Condition") or {}
    if "FunctionUrlAuthType" in statement:
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = (
            statement.pop("FunctionUrlAuthType"))
    if "InvokedViaFunctionUrl" in statement:
        value = statement.pop("InvokedViaFunctionUrl")
        if value in (True, "true", "True"):
            conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    if conditions:
        statement["Condition"] = conditions
