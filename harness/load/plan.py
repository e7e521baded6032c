"""What the load generator process is told to do: a JSON-safe plan, written before it starts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunPlan:
    url: str
    """Where every request is POSTed (the API's /predict URL)."""
    requests: tuple[dict[str, Any], ...]
    """The pre-drawn mix: ``{"kind", "body", "expect", "s3_reads"}``; request i uses i % len."""
    users: int
    spawn_rate: float
    request_count: int | None = None
    duration_s: float | None = None
    think_time_s: tuple[float, float] = (0.0, 0.0)
    arrival_rate: float | None = None
    timeout_s: float = 35.0
    workers: int = 0
    """Worker processes to start on this machine; 0 with no remote workers: one local runner."""
    remote_workers: int = 0
    """Workers started elsewhere (``harness load --worker``) that the master waits for."""
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    """0: a free port."""
    report_interval_s: float = 1.0
    """How often a worker sends its statistics window to the master."""
    progress_interval_s: float = 0.5
    track_requests: bool = False
    """Tag each request with its number (X-Harness-Request-Id) and keep every outcome by it."""
    worker_command: tuple[str, ...] = field(default_factory=tuple)
    """How to start a local worker (argv without master address); empty: the default."""

    @property
    def expected_workers(self) -> int:
        return self.workers + self.remote_workers

    @property
    def distributed(self) -> bool:
        return self.expected_workers > 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunPlan:
        data = json.loads(text)
        data["requests"] = tuple(data["requests"])
        data["think_time_s"] = tuple(data["think_time_s"])
        data["worker_command"] = tuple(data.get("worker_command") or ())
        return cls(**data)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json())

    @classmethod
    def read(cls, path: Path) -> RunPlan:
        return cls.from_json(path.read_text())


def quota(total: int | None, index: int, workers: int) -> int | None:
    """Requests worker ``index`` of ``workers`` sends out of ``total`` (None: no limit)."""
    if total is None:
        return None
    if index >= workers:
        return 0
    return total // workers + (1 if index < total % workers else 0)
