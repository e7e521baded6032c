"""Configuration as frozen values; the environment is read once, at the edge, by ``from_env``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.errors import UsageError

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
    """Interpreter that runs zip functions; None means the harness's own."""
    init_timeout_s: float = 10.0
    """Longest time an environment may take to initialise (AWS: 10 s for on-demand)."""
    event_retry_delays_s: tuple[float, ...] = (1.0, 2.0)
    """Delays before the retries of a failed asynchronous (Event) invocation."""


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
    lambda_: LambdaConfig = field(default_factory=LambdaConfig)

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
                account_concurrency=int(
                    env.get("HARNESS_ACCOUNT_CONCURRENCY", lam.account_concurrency)
                ),
                python=env.get("HARNESS_LAMBDA_PYTHON") or lam.python,
            )
            return replace(
                base,
                host=env.get("HARNESS_HOST", base.host),
                port=int(env.get("HARNESS_PORT", base.port)),
                region=env.get("HARNESS_REGION", base.region),
                state_dir=Path(env.get("HARNESS_STATE_DIR", str(base.state_dir))),
                lambda_=lam,
            )
        except ValueError as exc:
            raise UsageError(f"bad HARNESS_* environment value: {exc}") from None
