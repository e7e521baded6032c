"""One load replay end to end: emulator, deploy, payloads, generator, harness-side figures.

    harness load (this process)                 the generator process (engine.py)
      Emulator (threads) + REPORT listener  <-- HTTP --  Locust users (gevent)
      deploy, reserved concurrency, uploads        one local runner, or master + N workers
      progress line, report, SLO gates      <-- stdout JSON lines, result file

The emulator stays in this process so the listener sees every InvokeRecord; Locust runs in
another so its gevent patching never touches the emulator's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import interrupts
from harness.config import EmulatorConfig
from harness.deploy import Stack, Target, default_build_dir, deploy
from harness.errors import UsageError
from harness.faults.client import FaultClient
from harness.faults.model import FaultRule
from harness.leftovers import Baseline, leftovers
from harness.load import cloudwatch_side
from harness.load.generator import run_generator
from harness.load.harness_side import HarnessSide, unavailable
from harness.load.payloads import PayloadSet, draw_payloads, n_features_of, upload
from harness.load.plan import RunPlan
from harness.load.progress import ProgressLine
from harness.load.resources import ResourceSampler
from harness.load.scenario_file import LoadScenario
from harness.load.stats import LoadStats

Say = Callable[[str], None]


@dataclass(frozen=True)
class LoadOptions:
    """How ``harness load`` runs a scenario (from the command line)."""

    endpoint_url: str | None = None
    """None: start the embedded emulator; else replay against this endpoint."""
    workers: int = 0
    remote_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    out_dir: Path = Path("load-reports")
    progress: bool = True
    emulator_config: EmulatorConfig | None = None


@dataclass
class Replay:
    """Everything one replay produced; `harness.load.report` turns it into the report."""

    scenario: LoadScenario
    options: LoadOptions
    stack: Stack
    payloads: PayloadSet
    uploads: int
    plan: RunPlan
    result: dict[str, Any]
    interrupted: bool
    stats: LoadStats
    harness: dict[str, Any]
    workdir: Path
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def started(self) -> float:
        return float(self.result["started"])

    @property
    def wall_s(self) -> float:
        return max(1e-6, float(self.result["ended"]) - self.started)


@contextmanager
def _target(options: LoadOptions, cold_starts: str | None,
            say: Say) -> Iterator[tuple[str, Any]]:
    """(endpoint URL, emulator or None) for the run; the embedded emulator starts its new
    environments as ``cold_starts`` says (None: as its configuration says)."""
    if options.endpoint_url is not None:
        yield options.endpoint_url, None
        return
    import logging

    from harness.emulator import Emulator

    # Under load, throttles and refused requests are outcomes to count, not warnings to print.
    logging.getLogger("harness.apigw").setLevel(logging.ERROR)
    config = options.emulator_config or EmulatorConfig.from_env().with_overrides(
        port=0, host="127.0.0.1")
    if cold_starts is not None:
        config = config.with_overrides(lambda_=replace(config.lambda_, cold_starts=cold_starts))
    emulator = Emulator(config).start()
    try:
        say(f"embedded emulator on {emulator.url}")
        yield emulator.url, emulator
    finally:
        with interrupts.deferred():
            emulator.stop()


def cold_starts_of(endpoint: str, wanted: str | None, path: str) -> str:
    """How the emulator at ``endpoint`` starts new environments, as its health says ("unknown"
    if it does not say); a UsageError if the scenario wants another way."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint}/_harness/health", timeout=10) as answer:
            said = json.loads(answer.read()).get("cold_starts")
    except (OSError, ValueError, AttributeError):
        said = None
    mode = said if isinstance(said, str) else "unknown"
    if wanted is not None and mode != wanted:
        raise UsageError(f"{path}: load.cold_starts is {wanted}, but the emulator at {endpoint} "
                         f"runs {mode} cold starts: start it with `harness up --cold-starts "
                         f"{wanted}`, or drop --endpoint-url")
    return mode


def set_reserved_concurrency(target: Target, stack: Stack, reserved: int | None) -> None:
    lam = target.client("lambda", stack.region)
    if reserved is None:
        lam.delete_function_concurrency(FunctionName=stack.function_name)
    else:
        lam.put_function_concurrency(FunctionName=stack.function_name,
                                     ReservedConcurrentExecutions=reserved)


@contextmanager
def _faults_on(rules: tuple[FaultRule, ...], emulator: Any, endpoint: str,
               say: Say) -> Iterator[list[dict[str, Any]]]:
    """The scenario's fault rules switched on for the block; yields their hit counts after."""
    report: list[dict[str, Any]] = []
    if not rules:
        yield report
        return
    # The embedded emulator's injector, or /_harness/faults of an emulator elsewhere.
    if emulator is not None:
        for rule in rules:
            emulator.faults.add(rule)
        faults: Any = emulator.faults
    else:
        faults = FaultClient(endpoint)
        faults.add(*(rule.to_json() for rule in rules))
    say(f"faults on: {len(rules)} rule(s) " + ", ".join(_fault_text(r) for r in rules))
    try:
        yield report
    finally:
        mine = {rule.id for rule in rules}
        report.extend(item for item in faults.report() if item.get("id") in mine)
        for rule in rules:
            faults.remove(rule.id)


def _fault_text(rule: FaultRule) -> str:
    what = rule.error or rule.kind
    how = f"calls {list(rule.calls)}" if rule.calls else f"rate {rule.rate:g}"
    return f"{rule.target} {what} ({how})"


def replay(scenario: LoadScenario, options: LoadOptions, say: Say) -> Replay:
    """Deploy, upload the payload mix, run the generator, gather both sides' figures."""
    from harness.package import build_package

    spec = scenario.load
    if spec.soak is not None and options.endpoint_url is not None:
        raise UsageError(f"{scenario.path}: a soak (load.soak) needs the embedded emulator, "
                         "whose request ledger and memory it reads in this process; "
                         "drop --endpoint-url")
    baseline = Baseline.now() if spec.soak is not None else None
    extra: dict[str, Any] = {}
    with _target(options, spec.cold_starts, say) as (endpoint, emulator):
        target = Target(endpoint_url=endpoint)
        extra["cold_starts"] = cold_starts_of(endpoint, spec.cold_starts, scenario.path)
        say(f"cold starts: {extra['cold_starts']}")
        say("building the function package (training the model if needed)")
        package = build_package(default_build_dir())
        stack = deploy(target, scenario.stack, package, progress=lambda m: say(f"deploy {m}"))
        set_reserved_concurrency(target, stack, spec.reserved_concurrency)
        payloads = draw_payloads(spec.payloads, spec.seed, stack.bucket,
                                 n_features_of(package.model_dir))
        uploads = upload(payloads, target.client("s3", stack.region), stack.bucket)
        say(f"payload mix: {len(payloads.requests)} requests {payloads.shares()}, "
            f"{uploads} feature files uploaded (seed {spec.seed})")
        plan = _plan(scenario, options, stack, payloads)
        side = HarnessSide(emulator.lambdas, stack.function_name).start() if emulator else None
        sampler = None
        if spec.soak is not None:
            ledger = emulator.ledger
            sampler = ResourceSampler(lambda: len(ledger), spec.soak.sample_interval_s).start()
        workdir = options.out_dir
        with _faults_on(scenario.faults, emulator, endpoint, say) as fault_report:
            try:
                outcome = _run(plan, workdir, side, options.progress)
            finally:
                if side is not None:
                    side.stop()
                samples = sampler.stop() if sampler is not None else []
        if scenario.faults:
            extra["faults"] = fault_report
        if spec.soak is not None:
            extra["soak"] = {"ledger": emulator.ledger.snapshot(), "samples": samples}
        stats = LoadStats.from_wire(outcome.result["stats"])
        started = float(outcome.result["started"])
        harness = side.summary(started) if side is not None else unavailable(
            "the target is an external endpoint: no REPORT listener; cold starts, durations, "
            "memory and environments are not measured from the harness side")
        extra["cloudwatch"] = _cloudwatch_side(target, scenario, stack, started,
                                               float(outcome.result["ended"]))
    if baseline is not None:
        # everything the run started is stopped by now: what is still here was left behind
        extra["soak"]["leftovers"] = leftovers(baseline, all_threads=True)
    return Replay(scenario, options, stack, payloads, uploads, plan, outcome.result,
                  outcome.interrupted, stats, harness, workdir, outcome.log_path, extra)


def _cloudwatch_side(target: Target, scenario: LoadScenario, stack: Stack, started: float,
                     ended: float) -> dict[str, Any]:
    """The run's metrics as the endpoint's CloudWatch holds them (a failure to read them is a
    line in the report, not a failed run)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return cloudwatch_side.read(target.client("cloudwatch", stack.region),
                                    stack.function_name, scenario.stack.api_name, stack.stage,
                                    started, ended)
    except (BotoCoreError, ClientError) as error:
        return cloudwatch_side.unavailable(f"GetMetricStatistics failed: {error}")


def _plan(scenario: LoadScenario, options: LoadOptions, stack: Stack,
          payloads: PayloadSet) -> RunPlan:
    spec = scenario.load
    return RunPlan(
        url=stack.invoke_url, requests=tuple(r.to_dict() for r in payloads.requests),
        users=spec.users, spawn_rate=spec.spawn_rate, request_count=spec.requests,
        duration_s=spec.duration_s, think_time_s=spec.think_time_s,
        arrival_rate=spec.arrival_rate, timeout_s=spec.timeout_s, workers=options.workers,
        remote_workers=options.remote_workers, master_bind=options.master_bind,
        master_port=options.master_port, track_requests=spec.soak is not None)


def _run(plan: RunPlan, workdir: Path, side: HarnessSide | None, show: bool) -> Any:
    bar = ProgressLine(plan.request_count, plan.duration_s, enabled=show)
    lock = threading.Lock()

    def on_line(line: dict[str, Any]) -> None:
        if line.get("type") != "progress":
            return
        counters = None
        if side is not None:
            counters = {"environments": side.environments[-1][1] if side.environments else 0,
                        "cold_starts": sum(1 for c in side.invocations if c.cold),
                        "throttles": len(side.throttles)}
        with lock:
            bar.update(line, counters)

    try:
        return run_generator(plan, workdir, on_line)
    finally:
        bar.close()

