"""CPU and wall time per new execution environment of the example ML function: a real cold
start (a new interpreter: scikit-learn's import and the model's load) against a fork of the
version's initialised template (SnapStart's restore here). Target: a fork ready in at most
50 ms of CPU.

Each environment is started alone (one after the other) up to its first ``/next``: ready to
take an invocation. CPU is counted where it is spent, to the nanosecond (schedstat):
  - the environment's own processes (supervisor and runtime, every thread), from their start;
  - the harness's process meanwhile (its Runtime API, output reader, the fork request).
Memory: the runtime's USS (pages only it has) and PSS (shared pages split among sharers) once
ready; the forks of one template are kept alive together, so their PSS shows the sharing.

    python bench/bench_snapstart.py [--count 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import cpu_ns, memory_mb  # noqa: E402
from harness.lambda_.environment import ExecutionEnvironment  # noqa: E402
from harness.lambda_.launcher import ProcessLauncher  # noqa: E402
from harness.lambda_.spec import FunctionSpec, unpack_code  # noqa: E402
from harness.lambda_.template import RuntimeTemplate  # noqa: E402
from harness.package import build_package  # noqa: E402


def _self_cpu_ns() -> int:
    return cpu_ns(os.getpid())


Row = tuple[float, float, float, float, float]
_COLUMNS = ("wall ms", "env CPU ms", "harness CPU ms", "runtime USS MB", "runtime PSS MB")


def _measure(env: ExecutionEnvironment) -> Row:
    """Wall ms, environment CPU ms and harness CPU ms of one start to its first /next; the
    runtime's unique and proportional memory (MB) then."""
    own = _self_cpu_ns()
    wall = time.perf_counter()
    error = env.start()
    wall_ms = (time.perf_counter() - wall) * 1000
    harness_ms = (_self_cpu_ns() - own) / 1e6
    if error is not None:
        raise SystemExit(f"the environment failed: {error.error_type} {error.payload!r}")
    runtime = env._runtime  # noqa: SLF001 - a benchmark looks inside
    pids = [runtime.pid, runtime.supervisor_pid]  # type: ignore[union-attr]
    env_ms = sum(cpu_ns(pid) for pid in pids if pid) / 1e6
    uss, pss = memory_mb(runtime.pid)  # type: ignore[union-attr, arg-type]
    return wall_ms, env_ms, harness_ms, uss, pss


def _spec(code_dir: Path) -> FunctionSpec:
    return FunctionSpec(
        name="harness-predict", arn="arn:aws:lambda:us-east-1:123456789012:function:"
        "harness-predict", version="1", handler="handler.lambda_handler", runtime="python3.12",
        memory_mb=512, timeout_s=30, environment=(), code_sha256="bench",
        package_type="Zip", image_uri=None, account_id="123456789012", region="us-east-1",
        code_dir=str(code_dir))


def _summary(label: str, rows: list[Row]) -> None:
    for i, name in enumerate(_COLUMNS):
        values = [row[i] for row in rows]
        print(f"{label:>10} {name:>15}: median {statistics.median(values):8.1f}  "
              f"min {min(values):8.1f}  max {max(values):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-snapstart-") as tmp:
        state = Path(tmp)
        package = build_package(state / "build")
        code_dir = unpack_code(package.zip_bytes, package.sha256, state)
        spec = _spec(code_dir)
        launcher = ProcessLauncher(lambda: "http://127.0.0.1:9", state_dir=state)
        cold = []
        for i in range(args.count):
            env = ExecutionEnvironment(spec, launcher, f"cold{i:04d}", init_timeout_s=60)
            try:
                cold.append(_measure(env))
            finally:
                env.stop()
        template = RuntimeTemplate(spec, launcher, "template")
        template.start(120)
        print(f"template: init {template.init_duration_ms:.0f} ms, python threads "
              f"{template.threads}, kernel tasks {template.tasks} at the fork point")
        forked, alive = [], []
        try:
            for i in range(args.count):
                env = ExecutionEnvironment(spec, template, f"fork{i:04d}", init_timeout_s=10,
                                           restore=True)
                alive.append(env)
                forked.append(_measure(env))
        finally:
            for env in alive:
                env.stop()
            template.close()
        print(f"load average {os.getloadavg()[0]:.1f}, {args.count} environments each")
        _summary("cold", cold)
        _summary("fork", forked)


if __name__ == "__main__":
    main()
