"""The Invoke API's logic: resolve the function in moto, run it in a pooled environment, log it.

Invocation types: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import base64
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from harness.config import EmulatorConfig
from harness.errors import (
    AwsError,
    InvalidParameterError,
    RequestTooLargeError,
    TooManyRequestsError,
)
from harness.faults.injector import FaultInjector
from harness.faults.model import FaultRule
from harness.lambda_.cloudwatch import LogWriter, invocation_log_lines
from harness.lambda_.cold_starts import TemplateLauncher
from harness.lambda_.environment import (
    ExecutionEnvironment,
    InvokeRecord,
    Launcher,
    State,
    error_payload,
)
from harness.lambda_.hot_reload import Fingerprints
from harness.lambda_.invocation import Invocation
from harness.lambda_.invoke_params import (
    check_payload,
    check_qualifier,
    client_context_json,
    parse_function_name,
)
from harness.lambda_.pool import ConcurrencyGate, EnvFactory, FunctionPool, new_env_id
from harness.lambda_.runtime_api import MAX_RESPONSE_BYTES
from harness.lambda_.snapstart import (
    RESTORE_ERRORS,
    RESTORE_TIMEOUT_S,
    Key,
    Snapshots,
    invoke_error,
)
from harness.lambda_.spec import FunctionSpec, spec_from_moto, unpack_code

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # bytes; RequestResponse request ("limit 6291456 bytes")
MAX_ASYNC_PAYLOAD = 1024 * 1024  # bytes; Event invocations (raised from 256 KB in 2025-10)
LOG_TAIL_BYTES = 4096
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
OVERTIME_MARGIN_S = 1.0
"""What a warm invocation run in its caller's thread keeps in hand before the caller's deadline
(its REPORT, logs and metrics after the function's own timeout)."""


class DeadlinePassed(TimeoutError):
    """The caller's deadline passed first (API Gateway's integration timeout); the invocation
    runs on to its end in a thread of the service's own, as on AWS."""


@dataclass(frozen=True)
class InvokeRequest:
    function: str
    """Name, name:qualifier, partial or full ARN."""
    payload: bytes = b""
    qualifier: str | None = None
    invocation_type: str = "RequestResponse"
    log_type: str = "None"
    client_context: str | None = None
    """Base64 of a JSON object, as the X-Amz-Client-Context header carries it."""
    region: str | None = None
    request_id: str | None = None
    """The invocation's request id; None makes a new one (an async event's retries keep its)."""
    trace_header: str | None = None
    """The X-Ray trace header the invocation carries (``_X_AMZN_TRACE_ID`` in the function);
    an event source passes its event's, whose Lineage counts recursive invocations."""
    payload_is_json: bool = False
    """The payload is JSON the harness encoded itself (an event source's event): it is not
    parsed again to check it."""


@dataclass(frozen=True)
class InvokeResult:
    status: int
    payload: bytes
    executed_version: str | None = None
    function_error: str | None = None
    log_result: str | None = None
    record: InvokeRecord | None = None


RecordListener = Callable[[FunctionSpec, InvokeRecord], None]
ThrottleListener = Callable[[FunctionSpec, TooManyRequestsError], None]


class EventQueue(Protocol):
    """Where Event invocations go: Lambda's asynchronous queue (harness.triggers.async_invoke),
    with its retries on the harness's clock, destinations and dead-letter queue."""

    def enqueue(self, spec: FunctionSpec, request: InvokeRequest) -> str:
        """Accept the event (its request id back); it runs later through ``invoke``."""

    def wait_for_events(self, timeout: float) -> bool:
        """Whether every event accepted so far has ended within ``timeout`` seconds."""

    def join(self) -> None:
        """Wait for the events running now (the environments are stopped by then)."""


class LambdaService:
    """Owns every pool and environment; ``close()`` stops them all."""

    def __init__(self, config: EmulatorConfig, launcher: Launcher,
                 log_writer: LogWriter | None = None, *,
                 faults: FaultInjector | None = None) -> None:
        self._config = config
        self._faults = faults or FaultInjector()
        """Lambda fault rules (target "lambda"), decided once per invocation in ``_run``."""
        self._launcher = launcher
        self._logs = log_writer or LogWriter()
        self._gate = ConcurrencyGate(config.lambda_.account_concurrency)
        self._pools: dict[tuple[str, str, str, str], FunctionPool] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._event_queue: EventQueue | None = None
        self._overtime = ThreadPoolExecutor(max_workers=256,
                                            thread_name_prefix="lambda-overtime")
        """Runs the invocations that could outlive their caller's deadline (``invoke``)."""
        # Stopping retired environments happens here, off the request path.
        self._housekeeping = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="lambda-housekeeping")
        self._code_dirs: dict[str, Path] = {}
        self._fingerprints = Fingerprints()
        """Hot-reload directories' fingerprints, rescanned at most a few times a second."""
        self._envs: weakref.WeakValueDictionary[str, ExecutionEnvironment] = (
            weakref.WeakValueDictionary())
        """Every environment made and not yet collected, by id (``live_environment_ids``)."""
        self._envs_lock = threading.Lock()
        self._logs.watch_environments(self.live_environment_ids)
        self._listeners: list[RecordListener] = []
        self._throttle_listeners: list[ThrottleListener] = []
        self._snapshots = Snapshots(getattr(launcher, "process_launcher", None),
                                    self._version_spec, self._log_init, new_env_id)
        """SnapStart versions' templates, made at PublishVersion (``watch_publishes``)."""
        self._reaper = threading.Thread(target=self._reap_loop, name="lambda-reaper", daemon=True)
        self._reaper.start()

    def watch_publishes(self) -> None:
        """Make each version published with SnapStart its snapshot (moto tells of them)."""
        from harness.aws_state import snap_start

        snap_start.install()
        snap_start.add_version_listener(self._snapshots.on_publish, self._snapshots.on_delete)

    def _version_spec(self, key: Key) -> FunctionSpec:
        account, region, name, version = key
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        return self._resolve(InvokeRequest(function=arn, qualifier=version))[0]

    def _log_init(self, spec: FunctionSpec, stream_id: str, lines: list[str]) -> None:
        if lines:
            self._logs.write(spec, stream_id, lines)

    @property
    def cold_starts(self) -> str:
        """How new environments of zip functions start: "real" or "template"
        (``harness.lambda_.cold_starts``)."""
        return self._config.lambda_.cold_starts

    @property
    def code_cache(self) -> Path:
        return self._config.state_dir

    def set_event_queue(self, queue: EventQueue | None) -> None:
        """Hand Event invocations to ``queue`` (the triggers room's asynchronous queue)."""
        self._event_queue = queue

    def add_listener(self, listener: RecordListener) -> None:
        self._listeners.append(listener)

    def add_throttle_listener(self, listener: ThrottleListener) -> None:
        """``listener(spec, error)`` hears of every invocation refused for concurrency."""
        self._throttle_listeners.append(listener)

    def busy(self, spec: FunctionSpec) -> int:
        """Executions of the function in flight now (a listener's own included)."""
        return self._gate.busy(f"{spec.account_id}:{spec.region}:{spec.name}")

    def busy_named(self, name: str) -> int:
        return self._gate.busy_named(name)

    def remove_listeners(self, *listeners: RecordListener | ThrottleListener) -> None:
        """Stop telling ``listeners`` (a listener keeps whatever it gathered alive)."""
        self._listeners = [x for x in self._listeners if x not in listeners]
        self._throttle_listeners = [x for x in self._throttle_listeners if x not in listeners]

    def live_environment_ids(self) -> set[str]:
        """Ids of the environments not stopped yet (their log streams are never pruned)."""
        with self._envs_lock:
            envs = list(self._envs.values())
        return {env.env_id for env in envs if env.state is not State.STOPPED}

    @contextmanager
    def _telling_throttles(self, spec: FunctionSpec) -> Iterator[None]:
        try:
            yield
        except TooManyRequestsError as error:
            for listener in self._throttle_listeners:
                listener(spec, error)
            raise

    # -- resolution ----------------------------------------------------------------------------
    def _resolve(self, request: InvokeRequest) -> tuple[FunctionSpec, int | None, int]:
        from harness.aws_state import lambda_functions, snap_start
        from harness.aws_state.lambda_layers import layer_packages

        named = parse_function_name(request.function)
        check_qualifier(request.qualifier)
        region = named.region or request.region or self._config.region
        account = named.account or self._config.account_id
        fn, backend = lambda_functions.find(account, region, named.with_qualifier,
                                            request.qualifier, request.function)
        extra: dict[str, Any] = {"snap_start": snap_start.applies(fn)}
        if (fn.package_type or "Zip") == "Zip":  # one FunctionSpec made: it is costly to make
            extra.update(self._code(fn))
            extra.update(self._layers(extra.get("code_revision", ""), layer_packages(fn)))
        spec = spec_from_moto(fn, str(fn.version), **extra)
        reserved, reserved_total = lambda_functions.reserved(backend, fn, spec.name)
        return spec, reserved, reserved_total

    def _code(self, fn: Any) -> dict[str, Any]:
        """The spec's task root: the hot-reload directory itself (and its fingerprint, so a
        saved change retires the pool), else the zip unpacked once per hash."""
        from harness.aws_state.hot_reload import hot_reload_dir

        local = hot_reload_dir(fn)
        if local is not None:
            return {"code_dir": local, "code_revision": self._fingerprints.of(local)}
        if not fn.code_bytes:
            raise InvalidParameterError(f"function {fn.function_name} has no code")
        return {"code_dir": str(self._unpacked(fn.code_sha_256 or "", fn.code_bytes))}

    def _layers(self, code_revision: str,
                layers: list[tuple[str, bytes, str | None]]) -> dict[str, Any]:
        """The spec's layer directories: a hot-reload layer's own (its fingerprint joins the
        code revision), else the zip unpacked once per hash."""
        dirs, layer_revisions = [], []
        revisions = [code_revision] if code_revision else []
        for sha256, zipped, local in layers:
            if local is None:
                dirs.append(str(self._unpacked(sha256, zipped)))
                layer_revisions.append(sha256)
            else:
                dirs.append(local)
                layer_revisions.append(self._fingerprints.of(local))
                revisions.append(layer_revisions[-1])
        return {"layer_dirs": tuple(dirs), "code_revision": ":".join(revisions),
                "layer_revisions": tuple(layer_revisions),
                "layers_in_place": any(local is not None for _, _, local in layers)}

    def _unpacked(self, sha256: str, code: bytes) -> Path:
        found = self._code_dirs.get(sha256)
        if found is None:
            found = self._code_dirs[sha256] = unpack_code(code, sha256, self._config.state_dir)
        return found

    def _pool_for(self, spec: FunctionSpec) -> FunctionPool:
        key = (spec.account_id, spec.region, spec.name, spec.version)
        with self._lock:
            if self._closing.is_set():  # a pool made now would outlive close()
                raise AwsError("the emulator is shutting down", code="ServiceException")
            pool = self._pools.get(key)
            if pool is not None and pool.spec == spec:
                return pool
            old = pool
            factory, launcher = self._factory_for(spec)
            pool = FunctionPool(spec, factory, self._config.lambda_.keep_alive_s,
                                on_drained=launcher.close if launcher else None,
                                on_idle=launcher.release_if_unused if launcher else None)
            self._pools[key] = pool
        if old is not None:
            self._housekeeping.submit(old.retire)
        return pool

    def _init_timeout(self, spec: FunctionSpec) -> float:
        # Init gets 10 s; when that runs out, Lambda retries it within the first invocation
        # under the function's own timeout, so a slow init succeeds given a long enough timeout:
        # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
        return max(self._config.lambda_.init_timeout_s, spec.timeout_s)

    def _factory_for(self, spec: FunctionSpec) -> tuple[EnvFactory, TemplateLauncher | None]:
        """How the pool of ``spec`` makes environments, and in template mode the launcher
        whose template lives with the pool (``harness.lambda_.cold_starts``)."""
        process = getattr(self._launcher, "process_launcher", None)
        if (self._config.lambda_.cold_starts != "template" or spec.snap_start
                or process is None or self._launcher.uses_container(spec)):  # type: ignore[attr-defined]
            return self._new_env, None
        launcher = TemplateLauncher(spec, process, init_timeout_s=self._init_timeout(spec),
                                    hold_init=self._config.lambda_.hold_init,
                                    new_id=new_env_id, log=self._log_init)
        return partial(self._new_env, launcher=launcher), launcher

    def _new_env(self, spec: FunctionSpec, env_id: str,
                 launcher: Launcher | None = None) -> ExecutionEnvironment:
        if spec.snap_start:  # a fork of the version's snapshot, which runs its restore hooks
            env = ExecutionEnvironment(spec, self._snapshots.template_for(spec), env_id,
                                       init_timeout_s=RESTORE_TIMEOUT_S, restore=True)
        else:
            env = ExecutionEnvironment(spec, launcher or self._launcher, env_id,
                                       init_timeout_s=self._init_timeout(spec))
        with self._envs_lock:
            self._envs[env_id] = env
        return env

    # -- invoke --------------------------------------------------------------------------------
    def invoke(self, request: InvokeRequest, deadline: float | None = None) -> InvokeResult:
        """Invoke a function; ``deadline`` (a ``time.perf_counter()`` time) is when the caller
        stops waiting: past it, DeadlinePassed is raised and the invocation runs on.

        A warm invocation that surely ends before the deadline runs in the caller's thread;
        only one that might not (a cold start, a long timeout) is handed to a thread of its own.
        """
        if request.invocation_type not in INVOCATION_TYPES:
            raise InvalidParameterError(
                f"InvocationType {request.invocation_type!r} is not one of "
                f"{', '.join(INVOCATION_TYPES)}")
        limit = MAX_ASYNC_PAYLOAD if request.invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(request.payload) > limit:
            raise RequestTooLargeError(
                f"{len(request.payload)} byte payload is too large for the "
                f"{request.invocation_type} invocation type (limit {limit} bytes)")
        spec, reserved, reserved_total = self._resolve(request)
        client_context_json(request.client_context)  # refused here, before anything runs
        if not request.payload_is_json:
            check_payload(request.payload)
        if request.invocation_type == "DryRun":
            return InvokeResult(204, b"", executed_version=spec.version)
        if request.invocation_type == "Event":
            if self._event_queue is None:
                raise AwsError("asynchronous invocation is not running", code="ServiceException")
            self._event_queue.enqueue(spec, request)
            return InvokeResult(202, b"", executed_version=spec.version)
        record = self._run(spec, reserved, reserved_total, request, deadline)
        return self._result(spec, record, request.log_type == "Tail")

    def _run(self, spec: FunctionSpec, reserved: int | None, reserved_total: int,
             request: InvokeRequest, deadline: float | None = None) -> InvokeRecord:
        pool = self._pool_for(spec)
        key = f"{spec.account_id}:{spec.region}:{spec.name}"
        fault = self._faults.decide("lambda", function=spec.name)
        with self._telling_throttles(spec):
            if fault is not None and fault.kind == "throttle":
                raise TooManyRequestsError(
                    "Rate Exceeded.", reason="ReservedFunctionConcurrentInvocationLimitExceeded")
            self._gate.acquire(key, reserved, reserved_total)
        try:
            env = pool.checkout()
        except BaseException:
            self._gate.release(key, reserved)
            raise

        def run() -> InvokeRecord:
            try:
                return self._run_in(env, spec, request, fault)
            finally:
                pool.checkin(env)
                self._gate.release(key, reserved)

        if deadline is None or _ends_before(env, spec, fault, deadline):
            return run()
        try:
            future = self._overtime.submit(run)
        except RuntimeError:  # closing: nothing may outlive close(), so no thread either
            return run()
        try:
            return future.result(timeout=max(0.0, deadline - time.perf_counter()))
        except FutureTimeout:
            raise DeadlinePassed from None

    def _run_in(self, env: ExecutionEnvironment, spec: FunctionSpec,
                request: InvokeRequest, fault: FaultRule | None = None) -> InvokeRecord:
        """Run one invocation in ``env``, cold-starting it first if need be.

        An injected ``fault``: latency waits before the runtime gets the invocation (platform
        delay: not in the REPORT's Duration); timeout, crash and oom are the environment's to
        apply (see ``ExecutionEnvironment.invoke``).
        """
        request_id = request.request_id or fast_uuid()
        invocation = Invocation(
            request_id=request_id, payload=request.payload or b"{}",
            function_arn=_invoked_arn(spec, request),
            timeout_s=spec.timeout_s, client_context=client_context_json(request.client_context),
            trace_id=request.trace_header or (
                f"Root=1-{int(time.time()):08x}-{random.getrandbits(96):024x};Sampled=0"),
        )
        init_output = ""
        if env.init_duration_ms is None:
            init_error = env.start()
            init_output = env.take_init_output()
            if init_error is not None and init_error.error_type in RESTORE_ERRORS:
                self._log_init(spec, env.env_id, init_output.splitlines())
                raise invoke_error(init_error.error_type)
            if init_error is not None:
                record = _init_failure_record(env, spec, invocation, init_error.payload,
                                              init_error.error_type, init_output)
                return self._publish(spec, record, "")
        if fault is not None and fault.kind == "latency":
            time.sleep(fault.latency_ms / 1000)
        kind = fault.kind if fault is not None else None
        return self._publish(spec, env.invoke(invocation, kind), init_output)

    def _publish(self, spec: FunctionSpec, record: InvokeRecord,
                 init_output: str) -> InvokeRecord:
        lines = invocation_log_lines(record, spec.version, init_output)
        self._logs.write(spec, record.env_id, lines)
        record = record.with_log_lines(tuple(lines))
        for listener in self._listeners:
            listener(spec, record)
        return record

    def _result(self, spec: FunctionSpec, record: InvokeRecord, tail: bool) -> InvokeResult:
        payload = record.payload
        error = "Unhandled" if record.error_type is not None else None
        if error is None and len(payload) > MAX_RESPONSE_BYTES:
            payload = error_payload(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(payload)} bytes) exceeded maximum allowed payload "
                f"size ({MAX_RESPONSE_BYTES} bytes).")
            error = "Unhandled"
        log_result = None
        if tail:
            text = ("\n".join(record.log_lines) + "\n").encode()
            log_result = base64.b64encode(text[-LOG_TAIL_BYTES:]).decode()
        return InvokeResult(200, payload, executed_version=spec.version, function_error=error,
                            log_result=log_result, record=record)

    def wait_for_events(self, timeout: float) -> bool:
        """Wait until every Event invocation accepted so far has ended, its retries included;
        False if some are still pending after ``timeout`` seconds (a retry waits on the
        harness's clock: advance it)."""
        return self._event_queue is None or self._event_queue.wait_for_events(timeout)

    # -- lifecycle -----------------------------------------------------------------------------
    def _reap_loop(self) -> None:
        interval = min(1.0, max(0.05, self._config.lambda_.keep_alive_s / 4))
        while not self._closing.wait(interval):
            with self._lock:
                pools = list(self._pools.values())
            for pool in pools:
                self._housekeeping.submit(pool.reap)

    def environments(self) -> int:
        with self._lock:
            return sum(pool.size for pool in self._pools.values())

    def reset(self) -> None:
        """Stop every environment (state of moto is reset separately)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        self._snapshots.reset()
        self._logs.forget()

    def flush_logs(self) -> None:
        """Wait until every log line written so far is in CloudWatch Logs."""
        self._logs.flush()

    def close(self) -> None:
        self._closing.set()
        self._reaper.join()
        self._housekeeping.shutdown(wait=True)
        self._forget_publishes()
        self.reset()
        self._overtime.shutdown(wait=True)  # its invocations ended with their environments
        self._snapshots.close()
        if self._event_queue is not None:
            self._event_queue.join()  # its running invocations ended with their environments
        self._logs.close()


    def _forget_publishes(self) -> None:
        import sys

        snap_start = sys.modules.get("harness.aws_state.snap_start")  # only if it was watched
        if snap_start is not None:
            snap_start.remove_version_listener(self._snapshots.on_publish,
                                               self._snapshots.on_delete)


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def fast_uuid() -> str:
    """A version-4 UUID (RFC 4122 variant) from the non-cryptographic generator: request ids
    need no secrecy. Formatted by hand: ``uuid.UUID`` costs four times as much."""
    text = f"{random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _ends_before(env: ExecutionEnvironment, spec: FunctionSpec, fault: FaultRule | None,
                 deadline: float) -> bool:
    """Whether an invocation in ``env`` surely ends before ``deadline``: a warm environment's
    runtime takes it within the function's timeout, which then runs from there (twice the
    timeout at most, see ``ExecutionEnvironment._await``), after an injected latency. A cold
    start (its packages, its init) is never sure to."""
    if env.init_duration_ms is None:
        return False
    latency = fault.latency_ms / 1000 if fault is not None and fault.kind == "latency" else 0.0
    worst = 2 * spec.timeout_s + latency + OVERTIME_MARGIN_S
    return time.perf_counter() + worst <= deadline


def _init_failure_record(env: ExecutionEnvironment, spec: FunctionSpec, invocation: Invocation,
                         payload: bytes, error_type: str, output: str) -> InvokeRecord:
    from harness.lambda_.logs import Report, billed_duration_ms

    # The runtime client reports an init error before it has a request: its document says
    # "requestId": "", and Lambda passes it on unchanged, as AWS's emulator does.
    report = Report(invocation.request_id, 0.0, billed_duration_ms(0.0), spec.memory_mb, 0, None)
    return InvokeRecord(request_id=invocation.request_id, payload=payload, error_type=error_type,
                        report=report, output=output, env_id=env.env_id)


def _invoked_arn(spec: FunctionSpec, request: InvokeRequest) -> str:
    """The ARN the caller invoked, qualifier (version or alias) included, as the context's
    invoked_function_arn reports it:
    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html"""
    qualifier = request.qualifier or parse_function_name(request.function).qualifier
    return f"{spec.arn}:{qualifier}" if qualifier else spec.arn
