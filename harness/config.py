"""Configuration as frozen values; the environment is read once, at the edge, by ``from_env``."""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.errors import UsageError
from harness.http_guard import normalise_host_pattern, normalise_origin

DEFAULT_PORT = 4566
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account


def _default_state_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"harness-{os.getuid()}"


@dataclass(frozen=True)
class LambdaConfig:
    """How the emulator runs functions."""

    keep_alive_s: float = 300.0
    """An idle execution environment is stopped after this many seconds."""
    account_concurrency: int = 1000
    """Concurrent executions allowed across all functions (AWS's default quota)."""
    python: str | None = None
    """Interpreter that runs zip functions; None means the harness's own. It needs awslambdaric;
    functions see none of its other packages, only their requirements.txt's."""
    pip_args: tuple[str, ...] = ()
    """Added to ``pip install`` when a function's requirements.txt is built with pip (e.g.
    ``--no-index --find-links DIR``); HARNESS_PIP_ARGS, split as a shell would."""
    init_timeout_s: float = 10.0
    """Longest time an environment may take to initialise (AWS: 10 s for on-demand)."""
    zip_executor: str = "process"
    """How zip functions run: "process" (the runtime client as a child process) or "container"
    (in ``zip_image``, with the package mounted at /var/task). Image functions always run in
    containers."""
    zip_image: str | None = "harness/lambda-python:3.11-local"
    """The image zip functions run in with ``zip_executor="container"``."""
    cold_starts: str = "real"
    """How a new execution environment of a zip function starts. "real": its runtime runs the
    init, as a developer debugging that init wants. "template": the init runs once per function
    version, in a template, and each new environment is a fork of it whose first response is
    held back by the Init Duration the template measured, so that a burst of cold starts costs
    this machine one init and still looks to clients as it would on AWS (each environment with
    its own CPU). HARNESS_COLD_STARTS, ``harness up --cold-starts``."""
    hold_init: bool = True
    """Template mode: hold back a new environment's first response by the template's Init
    Duration (False: answer as soon as the fork is ready; the test suite's setting)."""


@dataclass(frozen=True)
class GatewayConfig:
    """How the execute-api data plane (API Gateway REST and HTTP APIs) behaves."""

    integration_timeout_s: float | None = None
    """Longest an integration may run before the gateway gives up on it (REST: 504, HTTP API:
    503). None follows API Gateway: the integration's own timeoutInMillis, else 29 s for REST
    APIs and 30 s for HTTP APIs. A number caps every integration (e.g. 1.0 in tests)."""


IAM_MODES = ("on", "all", "off")
COLD_START_MODES = ("real", "template")


@dataclass(frozen=True)
class IamConfig:
    """What the emulator checks as AWS's IAM would (``harness.iam``)."""

    mode: str = "on"
    """"on": calls made with a function's execution-role credentials are allowed only if the
    role's policies (and a bucket's policy) allow them, and AWS services invoke a function only
    if its resource-based policy allows them; every other caller is served as before. "all":
    also callers whose keys IAM or STS knows (users' access keys, their AssumeRole sessions).
    "off": neither; functions get fixed fake credentials. HARNESS_IAM, ``harness up --iam``."""

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True)
class EmulatorConfig:
    """Where and how the embedded emulator serves."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    """0 picks a free port."""
    region: str = "us-east-1"
    account_id: str = DEFAULT_ACCOUNT_ID
    state_dir: Path = field(default_factory=_default_state_dir)
    """Where unpacked function code and other caches live."""
    log_to_console: bool = False
    """Stream function logs (START/END/REPORT and output) to stderr."""
    log_events_per_stream: int = 20_000
    """CloudWatch Logs events kept per log stream; older ones are dropped (a long-running
    emulator would otherwise grow by every invocation's START/END/REPORT lines)."""
    log_bytes_per_stream: int = 8 * 1024 * 1024
    """Message bytes kept per log stream; older events are dropped (a function's output is
    capped per invocation, but 20,000 events of 256 KB would still be 5 GB)."""
    log_streams_per_group: int = 50
    """Log streams kept per log group (one per environment): past it, the streams of stopped
    environments written longest ago are deleted. AWS keeps them; a long-running emulator that
    replaces environments (keep-alive, crashes, timeouts) would otherwise grow by one each."""
    ledger_max_entries: int = 100_000
    """Request ids the ledger (``X-Harness-Request-Id``) keeps; past it the oldest answered ones
    are evicted, and counted. The soak's 10,000 requests fit ten times over."""
    lambda_: LambdaConfig = field(default_factory=LambdaConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    iam: IamConfig = field(default_factory=IamConfig)
    s3_fast_reads: bool = True
    """Answer plain S3 GetObject/HeadObject from moto's state without moto's server app (the
    same answer, a tenth of the CPU); False sends every S3 request through moto's app."""
    sqs_fast_calls: bool = True
    """Answer SQS SendMessage/ReceiveMessage/DeleteMessage (JSON protocol) from moto's SQS
    backend without moto's server app (the same answer, a fifth of the CPU); False sends
    every SQS request through moto's app."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names served besides 127.0.0.1, localhost, [::1], ``*.localhost``,
    ``*.localhost.localstack.cloud`` and ``host`` (``*.NAME`` for every name below NAME; ``*``
    for any): other names are refused, so a DNS-rebinding web page cannot use the emulator.
    HARNESS_ALLOWED_HOSTS, separated by commas or spaces."""
    allowed_origins: tuple[str, ...] = ()
    """Origins of web pages that may use the control planes and ``/_harness/*`` besides pages on
    this machine (``http://localhost:3000``, ...); ``*`` for any. HARNESS_ALLOWED_ORIGINS."""

    def with_overrides(self, **changes: object) -> EmulatorConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Read ``HARNESS_*`` variables; anything unset keeps its default."""
        env = os.environ if environ is None else environ
        base = cls()
        lam = base.lambda_
        try:
            lam = replace(
                lam,
                keep_alive_s=float(env.get("HARNESS_KEEP_ALIVE", lam.keep_alive_s)),
                account_concurrency=_at_least(1, int(
                    env.get("HARNESS_ACCOUNT_CONCURRENCY", lam.account_concurrency)
                ), "HARNESS_ACCOUNT_CONCURRENCY"),
                python=env.get("HARNESS_LAMBDA_PYTHON") or lam.python,
                pip_args=tuple(shlex.split(env.get("HARNESS_PIP_ARGS", ""))) or lam.pip_args,
                zip_executor=_choice(env.get("HARNESS_ZIP_EXECUTOR", lam.zip_executor),
                                     "HARNESS_ZIP_EXECUTOR", ("process", "container")),
                zip_image=env.get("HARNESS_ZIP_IMAGE") or lam.zip_image,
                cold_starts=_choice(env.get("HARNESS_COLD_STARTS", lam.cold_starts),
                                    "HARNESS_COLD_STARTS", COLD_START_MODES),
            )
            return _bounds_from_env(env, replace(
                base,
                host=env.get("HARNESS_HOST", base.host),
                port=int(env.get("HARNESS_PORT", base.port)),
                region=env.get("HARNESS_REGION", base.region),
                state_dir=Path(env.get("HARNESS_STATE_DIR", str(base.state_dir))),
                log_events_per_stream=_at_least(1, int(env.get(
                    "HARNESS_LOG_EVENTS_PER_STREAM", base.log_events_per_stream)),
                    "HARNESS_LOG_EVENTS_PER_STREAM"),
                lambda_=lam,
                gateway=_gateway_from_env(env, base.gateway),
                iam=IamConfig(mode=_choice(env.get("HARNESS_IAM", base.iam.mode), "HARNESS_IAM",
                                           IAM_MODES)),
                allowed_hosts=tuple(normalise_host_pattern(name) for name in
                                    _words(env.get("HARNESS_ALLOWED_HOSTS", ""))),
                allowed_origins=tuple(normalise_origin(origin) for origin in
                                      _words(env.get("HARNESS_ALLOWED_ORIGINS", ""))),
            ))
        except ValueError as exc:
            raise UsageError(f"bad HARNESS_* environment value: {exc}") from None


def _bounds_from_env(env: Mapping[str, str], config: EmulatorConfig) -> EmulatorConfig:
    """``config`` with what a long-running emulator keeps of its logs and its ledger."""
    def read(name: str, default: int) -> int:
        return _at_least(1, int(env.get(name, default)), name)

    return replace(
        config,
        log_bytes_per_stream=read("HARNESS_LOG_BYTES_PER_STREAM", config.log_bytes_per_stream),
        log_streams_per_group=read("HARNESS_LOG_STREAMS_PER_GROUP",
                                   config.log_streams_per_group),
        ledger_max_entries=read("HARNESS_LEDGER_MAX_ENTRIES", config.ledger_max_entries),
    )


def _words(value: str) -> tuple[str, ...]:
    return tuple(word for word in value.replace(",", " ").split() if word)


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def _at_least(low: int, value: int, name: str) -> int:
    if value < low:
        raise ValueError(f"{name}={value} is below {low}")
    return value


def _gateway_from_env(env: Mapping[str, str], gateway: GatewayConfig) -> GatewayConfig:
    timeout = env.get("HARNESS_INTEGRATION_TIMEOUT")
    if not timeout:
        return gateway
    seconds = float(timeout)
    if seconds <= 0:
        raise ValueError(f"HARNESS_INTEGRATION_TIMEOUT={timeout!r} is not a positive number")
    return replace(gateway, integration_timeout_s=seconds)
