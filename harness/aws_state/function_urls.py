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
                config = getattr(fn, "url_config", None)
                if config is not None and getattr(config, "url_id", "") == wanted:
                    return _snapshot(fn, config)
    return None


def _snapshot(fn: Any, config: Any) -> UrlConfig:
    reserved = fn.reserved_concurrency
    return UrlConfig(
        url_id=config.url_id, region=fn.region, account_id=fn.account_id,
        function_arn=fn.function_arn, auth_type=str(config.config.get("AuthType") or "NONE"),
        cors=dict(config.config["Cors"]) if config.config.get("Cors") else None,
        invoke_mode=str(config.config.get("InvokeMode") or "BUFFERED"),
        statements=tuple(json.loads(json.dumps(fn.policy.statements))),
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
    FunctionUrlConfig.to_dict = _config_to_dict  # type: ignore[method-assign]
    FunctionUrlConfig.update = _config_update  # type: ignore[method-assign]
    LambdaFunction.create_url_config = _create_url_config  # type: ignore[method-assign]
    LambdaFunction.delete_url_config = _delete_url_config  # type: ignore[method-assign]
    LambdaFunction.update_url_config = _update_url_config  # type: ignore[method-assign]
    LambdaResponse.list_function_url_configs = _list_function_url_configs  # type: ignore[attr-defined]
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
    _check(config, creating=True)
    self.function = function
    self.config = {k: config[k] for k in ("AuthType", "Cors", "InvokeMode") if k in config}
    self.url_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_URL_ID_LENGTH))
    self.created = _now()
    self.last_modified = self.created


def _config_url(self: Any) -> str:
    return public_url(self.url_id, self.function.region)


def _config_to_dict(self: Any) -> dict[str, Any]:
    made = {"FunctionUrl": self.url, "FunctionArn": self.function.function_arn,
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


def _create_url_config(self: Any, config: dict[str, Any]) -> Any:
    from moto.awslambda.models import FunctionUrlConfig
    from moto.core.exceptions import JsonRESTError

    _check(config, creating=True)  # a bad request is refused before the state is looked at
    if self.url_config is not None:
        raise JsonRESTError(
            "ResourceConflictException",
            f"Failed to create function url config for [functionArn = {self.function_arn}]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function")
    self.url_config = FunctionUrlConfig(function=self, config=config)
    return self.url_config


def _delete_url_config(self: Any) -> None:
    from moto.awslambda.exceptions import GenericResourcNotFound

    if self.url_config is None:
        raise GenericResourcNotFound()
    self.url_config = None


def _update_url_config(self: Any, config: dict[str, Any]) -> Any:
    from moto.awslambda.exceptions import GenericResourcNotFound

    if self.url_config is None:
        raise GenericResourcNotFound()
    self.url_config.update(config)
    return self.url_config


def _list_function_url_configs(self: Any) -> str:
    function_name = unquote(self.path.rstrip("/").split("/")[-2])
    fn = self.backend.get_function(function_name)
    configs = [fn.url_config.to_dict()] if fn.url_config is not None else []
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
