"""Warm execution environments of one function version, and the account's concurrency gate."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import ServiceError, TooManyRequestsError
from harness.lambda_.environment import ExecutionEnvironment, State
from harness.lambda_.spec import FunctionSpec

EnvFactory = Callable[[FunctionSpec, str], ExecutionEnvironment]
_ids = itertools.count(1)


def new_env_id() -> str:
    import uuid

    return uuid.uuid4().hex[:8] + f"{next(_ids):08x}"[-8:]


class FunctionPool:
    """Hands out environments: the warmest idle one, else a new (cold) one."""

    def __init__(self, spec: FunctionSpec, factory: EnvFactory, keep_alive_s: float,
                 on_drained: Callable[[], None] | None = None,
                 on_idle: Callable[[], None] | None = None) -> None:
        self.spec = spec
        self._factory = factory
        self._on_drained = on_drained
        """Called once, when the pool is retired or closed and its last environment stopped
        (a template's end: its forks must not outlive it, nor it them)."""
        self._on_idle = on_idle
        """Called when the keep-alive has stopped the pool's last environment (a template is
        let go then, as its environments are)."""
        self._keep_alive_s = keep_alive_s
        self._lock = threading.Lock()
        self._idle: list[ExecutionEnvironment] = []
        self._all: set[ExecutionEnvironment] = set()
        self._retired = False
        self._closed = False

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._all)

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._all) - len(self._idle)

    def checkout(self) -> ExecutionEnvironment:
        """An environment to run one invocation in; a new one is not started yet."""
        dead: list[ExecutionEnvironment] = []
        try:
            with self._lock:
                if self._closed:
                    # An environment made now would outlive close(): nobody would stop it.
                    raise ServiceError(f"function {self.spec.name} is being stopped "
                                       "(the emulator is resetting or shutting down)")
                while self._idle:
                    env = self._idle.pop()
                    if env.state is State.READY:
                        return env
                    self._all.discard(env)
                    dead.append(env)  # its runtime exited while idle
                env = self._factory(self.spec, new_env_id())
                self._all.add(env)
                return env
        finally:
            for env in dead:
                env.stop()

    def checkin(self, env: ExecutionEnvironment) -> None:
        """Return an environment; a broken one, or one of a retired pool, is stopped."""
        with self._lock:
            keep = not self._retired and env.state is State.READY
            if keep:
                self._idle.append(env)
            else:
                self._all.discard(env)
        if not keep:
            env.stop()
            self._drained()

    def _drained(self) -> None:
        with self._lock:
            if not self._retired or self._all:
                return
            on_drained, self._on_drained = self._on_drained, None
        if on_drained is not None:
            on_drained()

    def reap(self, now: float | None = None) -> int:
        """Stop environments idle for longer than the keep-alive; returns how many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [e for e in self._idle if now - e.last_used >= self._keep_alive_s]
            for env in stale:
                self._idle.remove(env)
                self._all.discard(env)
        for env in stale:
            env.stop()
        with self._lock:
            idle = bool(stale) and not self._all and not self._retired
        if idle and self._on_idle is not None:
            self._on_idle()
        return len(stale)

    def retire(self) -> None:
        """No new work: idle environments stop now, busy ones when they come back."""
        with self._lock:
            self._retired = True
            idle, self._idle = self._idle, []
            for env in idle:
                self._all.discard(env)
        for env in idle:
            env.stop()
        self._drained()

    def close(self) -> None:
        """Stop every environment, busy ones included."""
        with self._lock:
            self._retired = self._closed = True
            everything = list(self._all)
            self._all.clear()
            self._idle.clear()
        for env in everything:
            env.stop()
        self._drained()


@dataclass
class _Usage:
    busy: int = 0


class ConcurrencyGate:
    """Counts concurrent executions against reserved concurrency and the account quota.

    A function with reserved concurrency R runs at most R at once; the others share what the
    account quota leaves unreserved. https://docs.aws.amazon.com/lambda/latest/dg/
    lambda-concurrency.html ; a synchronous invoke past the limit gets TooManyRequestsException
    (429): https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
    """

    def __init__(self, account_limit: int) -> None:
        self.account_limit = account_limit
        self._lock = threading.Lock()
        self._per_function: dict[str, _Usage] = {}
        self._unreserved_busy = 0

    def busy(self, function: str) -> int:
        """Executions of ``function`` in flight now."""
        with self._lock:
            usage = self._per_function.get(function)
            return usage.busy if usage is not None else 0

    def busy_named(self, name: str) -> int:
        """Executions in flight of every function called ``name`` (any account or region)."""
        with self._lock:
            return sum(u.busy for key, u in self._per_function.items()
                       if key.rsplit(":", 1)[-1] == name)

    def acquire(self, function: str, reserved: int | None, reserved_total: int) -> None:
        """Take a slot for one execution of ``function``, or raise TooManyRequestsError;
        every slot taken is given back by ``release``."""
        with self._lock:
            usage = self._per_function.setdefault(function, _Usage())
            if reserved is not None:
                if usage.busy >= reserved:
                    raise TooManyRequestsError(
                        "Rate Exceeded.",
                        reason="ReservedFunctionConcurrentInvocationLimitExceeded")
            elif self._unreserved_busy >= self.account_limit - reserved_total:
                raise TooManyRequestsError(
                    "Rate Exceeded.", reason="ConcurrentInvocationLimitExceeded")
            else:
                self._unreserved_busy += 1
            usage.busy += 1

    def release(self, function: str, reserved: int | None) -> None:
        with self._lock:
            self._per_function[function].busy -= 1
            if reserved is None:
                self._unreserved_busy -= 1
