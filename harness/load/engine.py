"""The load generator process: Locust as a library, one local runner or a master with workers.

Importing Locust monkey-patches the standard library with gevent, which the threaded emulator
must never see, so this module runs in a process of its own (`command` starts it) and talks to
``harness load`` through files and its stdout:

    harness load (emulator, deploy, payloads, report)
      └─ engine: python -c '<patch>; engine.main' --plan P --result R   (local runner or master)
           └─ N x harness load --worker --master-host 127.0.0.1 --master-port ...   (--workers N)

stdout carries one JSON progress line about twice a second; the result file gets the merged
statistics. SIGTERM (what ``harness load`` sends on Ctrl-C) stops sending, lets the requests in
flight finish and still writes the result. Workers send their statistics windows to the master
through Locust's custom messages; the master merges the HDR histograms.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.ledger import HEADER as LEDGER_HEADER
from harness.load.plan import RunPlan, quota
from harness.load.stats import LoadStats, classify

STOP_GRACE_S = 5.0
WORKER_CONNECT_TIMEOUT_S = 60.0
_HEADERS = {"Content-Type": "application/json"}
_PATCH_FIRST = ("from gevent import monkey; monkey.patch_all(); import sys; "
                "from harness.load.engine import main; sys.exit(main(sys.argv[1:]))")


def command(*args: str) -> list[str]:
    """argv that runs this module's `main` with gevent patched before anything else loads."""
    return [sys.executable, "-c", _PATCH_FIRST, *args]


# -- shared by every mode -------------------------------------------------------------------------
class Tickets:
    """Hands out request numbers; none once the quota is used up or sending was stopped."""

    def __init__(self, limit: int | None, offset: int = 0, stride: int = 1) -> None:
        self.limit, self.offset, self.stride = limit, offset, stride
        self.taken = 0
        self.done = 0
        self.closed = False

    def take(self) -> int | None:
        if self.exhausted:
            return None
        number = self.offset + self.stride * self.taken
        self.taken += 1
        return number

    @property
    def exhausted(self) -> bool:
        return self.closed or (self.limit is not None and self.taken >= self.limit)

    @property
    def in_flight(self) -> int:
        return self.taken - self.done


def make_user_class(plan: RunPlan, stats: LoadStats, tickets: Tickets) -> type:
    """A FastHttpUser that POSTs the plan's requests in ticket order."""
    from locust import between, constant, constant_throughput, task
    from locust.contrib.fasthttp import FastHttpUser
    from locust.exception import StopUser

    parts = urlsplit(plan.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    bodies = [str(r["body"]).encode() for r in plan.requests]
    contexts = [{"expect": r["expect"], "s3_reads": int(r["s3_reads"])} for r in plan.requests]
    track = plan.track_requests
    if plan.arrival_rate:
        wait = constant_throughput(plan.arrival_rate / plan.users)
    elif plan.think_time_s[0] == plan.think_time_s[1]:
        wait = constant(plan.think_time_s[0])
    else:
        wait = between(*plan.think_time_s)

    class ScenarioUser(FastHttpUser):
        host = f"{parts.scheme}://{parts.netloc}"
        wait_time = wait
        network_timeout = plan.timeout_s
        connection_timeout = min(plan.timeout_s, 10.0)
        max_retries = 0

        @task
        def post(self) -> None:
            number = tickets.take()
            if number is None:
                raise StopUser
            slot = number % len(bodies)
            headers, context = _HEADERS, contexts[slot]
            if track:  # the ticket number goes along so both sides can account for it
                headers = {**_HEADERS, LEDGER_HEADER: str(number)}
                context = {**context, "request_id": number}
            stats.note_sent()
            started = time.perf_counter()
            try:
                # bytes go out as they are (geventhttpclient takes them; the hint says str)
                self.client.request("POST", path, data=bodies[slot],  # type: ignore[arg-type]
                                    headers=headers, name=f"POST {parts.path}",
                                    context=context)
            except Exception as error:  # noqa: BLE001 - outside Locust's list: no request event
                stats.record(time.time(), (time.perf_counter() - started) * 1000,
                             classify(0, error), context["expect"],
                             request_id=context.get("request_id"))
                tickets.done += 1

    return ScenarioUser


def recorder(stats: LoadStats, tickets: Tickets) -> Callable[..., None]:
    """The ``request`` event listener: Locust's float response_time goes into the HDR."""
    def on_request(response_time: float, response: Any = None, context: Any = None,
                   exception: BaseException | None = None, **_kw: Any) -> None:
        status = int(getattr(response, "status_code", 0) or 0)
        ctx = context or {}
        stats.record(time.time(), float(response_time), classify(status, exception),
                     ctx.get("expect", "2xx"), int(ctx.get("s3_reads", 0)),
                     ctx.get("request_id"))
        tickets.done += 1
    return on_request


class StopFlag:
    """Set by SIGTERM/SIGINT, or when the parent process goes away."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        self.reason = self.reason or reason

    def install(self, watch_parent: bool) -> None:
        import gevent

        gevent.signal_handler(signal.SIGTERM, lambda: self.set("interrupted"))
        gevent.signal_handler(signal.SIGINT, lambda: self.set("interrupted"))
        if watch_parent:
            parent = os.getppid()

            def watch() -> None:
                while os.getppid() == parent:
                    gevent.sleep(0.5)
                self.set("parent exited")
            gevent.spawn(watch)


def _cpu_seconds() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


@dataclass
class Progress:
    """Writes a JSON line with the figures so far every ``interval`` seconds."""

    stats: LoadStats
    started: float
    interval: float
    out: Any = sys.stdout
    users: Callable[[], int] = lambda: 0
    _last: float = 0.0
    _last_done: int = 0
    _rps: float = 0.0

    def tick(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last < self.interval:
            return
        done = self.stats.completed
        if self._last:
            instant = (done - self._last_done) / max(now - self._last, 1e-6)
            self._rps = instant if not self._rps else 0.5 * self._rps + 0.5 * instant
        self._last, self._last_done = now, done
        live = self.stats.live_percentiles()
        line = {"type": "progress", "elapsed": round(now - self.started, 3),
                "sent": self.stats.sent, "done": done,
                "errors": self.stats.completed - self.stats.kinds["2xx"] - self.stats.kinds["3xx"],
                "unexpected": self.stats.unexpected, "rps": round(self._rps, 1),
                "p50": live["p50"], "p99": live["p99"], "users": self.users()}
        self.out.write(json.dumps(line) + "\n")
        self.out.flush()


def _wait(plan: RunPlan, started: float, stop: StopFlag, finished: Callable[[], bool],
          progress: Progress) -> str:
    import gevent

    while True:
        gevent.sleep(0.05)
        progress.tick()
        if stop.reason is not None:
            return stop.reason
        if plan.duration_s is not None and time.time() - started >= plan.duration_s:
            return "duration"
        if finished():
            return "requests"


def _drain(in_flight: Callable[[], int], timeout_s: float, progress: Progress) -> None:
    """Let requests in flight come back (each is bounded by the request timeout)."""
    import gevent

    deadline = time.monotonic() + timeout_s
    while in_flight() > 0 and time.monotonic() < deadline:
        gevent.sleep(0.05)
        progress.tick()


def _result(stats: LoadStats, started: float, ended: float, reason: str,
            cpu_s: float, extra: dict[str, Any]) -> dict[str, Any]:
    return {"stats": stats.to_wire(), "started": started, "ended": ended, "reason": reason,
            "generator_cpu_s": cpu_s, **extra}


# -- one process ----------------------------------------------------------------------------------
def run_local(plan: RunPlan, stop: StopFlag) -> dict[str, Any]:
    from locust.env import Environment

    stats = LoadStats(live=True)
    tickets = Tickets(plan.request_count)
    env = Environment(user_classes=[make_user_class(plan, stats, tickets)], stop_timeout=0)
    env.events.request.add_listener(recorder(stats, tickets))
    warnings: list[str] = []
    env.events.cpu_warning.add_listener(
        lambda environment, cpu_usage, **_kw: warnings.append(f"load generator CPU {cpu_usage}%"))
    runner = env.create_local_runner()
    cpu0 = _cpu_seconds()
    started = time.time()
    progress = Progress(stats, started, plan.progress_interval_s, users=lambda: runner.user_count)
    runner.start(plan.users, plan.spawn_rate)
    reason = _wait(plan, started, stop, lambda: tickets.exhausted and tickets.in_flight == 0,
                   progress)
    tickets.closed = True
    _drain(lambda: tickets.in_flight, plan.timeout_s + STOP_GRACE_S, progress)
    ended = time.time()
    progress.tick(force=True)
    runner.quit()
    return _result(stats, started, ended, reason, _cpu_seconds() - cpu0,
                   {"workers": 0, "warnings": warnings})


# -- master and workers ---------------------------------------------------------------------------
@dataclass
class _Node:
    ready: bool = False
    sent: int = 0
    done: int = 0
    exhausted: bool = False
    final: bool = False
    cpu_s: float = 0.0


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host if host not in ("*", "0.0.0.0") else "127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_workers(plan: RunPlan, port: int) -> list[subprocess.Popen[bytes]]:
    # The same command a worker on another machine runs (docs/load.md).
    base = list(plan.worker_command) or [sys.executable, "-m", "harness.cli.main", "load",
                                         "--worker"]
    host = "127.0.0.1" if plan.master_bind in ("*", "0.0.0.0", "") else plan.master_bind
    procs = []
    for _ in range(plan.workers):
        procs.append(subprocess.Popen(
            [*base, "--master-host", host, "--master-port", str(port), "--watch-parent"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
    return procs


def _stop_workers(procs: list[subprocess.Popen[bytes]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class _Master:
    """A Locust master that hands workers the plan and adds up their statistics windows."""

    def __init__(self, plan: RunPlan) -> None:
        from locust.env import Environment

        self.plan = plan
        self.stats = LoadStats(live=True)
        self.nodes: dict[str, _Node] = {}
        env = Environment(user_classes=[make_user_class(plan, self.stats, Tickets(0))],
                          stop_timeout=0)
        self.port = plan.master_port or free_port(plan.master_bind)
        self.runner = env.create_master_runner(master_bind_host=plan.master_bind,
                                               master_bind_port=self.port)
        self._plan_data = json.loads(plan.to_json())
        self.runner.register_message("load_hello", self._on_hello)
        self.runner.register_message("load_ready", self._on_ready)
        self.runner.register_message("load_window", self._on_window)

    def _on_hello(self, environment: Any, msg: Any, **_kw: Any) -> None:
        self.nodes.setdefault(msg.node_id, _Node())
        self.runner.send_message("load_plan", self._plan_data, client_id=msg.node_id)

    def _on_ready(self, environment: Any, msg: Any, **_kw: Any) -> None:
        self.nodes.setdefault(msg.node_id, _Node()).ready = True

    def _on_window(self, environment: Any, msg: Any, **_kw: Any) -> None:
        node = self.nodes.setdefault(msg.node_id, _Node())
        self.stats.merge(LoadStats.from_wire(msg.data["window"]))
        node.sent, node.done = msg.data["sent"], msg.data["done"]
        node.exhausted, node.cpu_s = msg.data["exhausted"], msg.data["cpu_s"]
        node.final = node.final or bool(msg.data.get("final"))

    @property
    def ready(self) -> int:
        return sum(n.ready for n in self.nodes.values())

    def all_sent_and_answered(self) -> bool:
        return all(n.exhausted and n.sent == n.done for n in self.nodes.values() if n.ready)

    def drain(self, progress: Progress) -> None:
        """Workers stop sending, wait for what is in flight, and send a last window."""
        for node_id in self.nodes:
            self.runner.send_message("load_stop", None, client_id=node_id)
        _await(lambda: all(n.final for n in self.nodes.values()),
               self.plan.timeout_s + STOP_GRACE_S * 2, None, progress)

    def quit(self) -> None:
        import gevent

        for node_id in self.nodes:
            self.runner.send_message("load_quit", None, client_id=node_id)
        gevent.sleep(0.2)
        self.runner.quit()


def run_master(plan: RunPlan, stop: StopFlag) -> dict[str, Any]:
    master = _Master(plan)
    print(json.dumps({"type": "master", "port": master.port}), flush=True)
    procs = _start_workers(plan, master.port)
    cpu0 = _cpu_seconds()
    try:
        if not _await(lambda: master.ready >= plan.expected_workers, WORKER_CONNECT_TIMEOUT_S,
                      stop):
            master.runner.quit()
            if stop.reason is None:
                raise RuntimeError(f"only {master.ready} of {plan.expected_workers} workers "
                                   f"connected within {WORKER_CONNECT_TIMEOUT_S:.0f} s")
            now = time.time()
            return _result(master.stats, now, now, stop.reason, 0.0,
                           {"workers": 0, "warnings": []})
        started = time.time()
        progress = Progress(master.stats, started, plan.progress_interval_s,
                            users=lambda: master.runner.user_count)
        master.runner.start(plan.users, plan.spawn_rate)
        reason = _wait(plan, started, stop, master.all_sent_and_answered, progress)
        master.drain(progress)
        ended = time.time()
        progress.tick(force=True)
        master.quit()
    finally:
        _stop_workers(procs)
    cpu = _cpu_seconds() - cpu0 + sum(n.cpu_s for n in master.nodes.values())
    return _result(master.stats, started, ended, reason, cpu,
                   {"workers": len(master.nodes), "master_port": master.port, "warnings": []})


def _await(condition: Callable[[], bool], timeout_s: float, stop: StopFlag | None,
           progress: Progress | None = None) -> bool:
    import gevent

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        if stop is not None and stop.reason is not None:
            return False
        if progress is not None:
            progress.tick()
        gevent.sleep(0.05)
    return condition()


class _Worker:
    """A Locust worker that takes the master's plan and reports windows of its statistics."""

    def __init__(self, master_host: str, master_port: int) -> None:
        from locust.env import Environment

        self.env = Environment(user_classes=[], stop_timeout=0)
        self.runner = self.env.create_worker_runner(master_host, master_port)
        self.plan: RunPlan | None = None
        self.stats = LoadStats()
        self.tickets = Tickets(0)
        self.final = False
        self.runner.register_message("load_plan", self._on_plan)
        self.runner.register_message("load_stop", self._on_stop, concurrent=True)
        self.runner.register_message("load_quit", lambda environment, msg, **_kw:
                                     self.runner.quit(), concurrent=True)

    def _send_window(self, final: bool = False) -> None:
        self.runner.send_message("load_window", {
            "window": self.stats.take().to_wire(), "sent": self.tickets.taken,
            "done": self.tickets.done, "exhausted": self.tickets.exhausted,
            "cpu_s": _cpu_seconds(), "final": final})

    def _report_loop(self, interval: float) -> None:
        import gevent

        while not self.final:
            gevent.sleep(interval)
            if not self.final:
                self._send_window()

    def _on_plan(self, environment: Any, msg: Any, **_kw: Any) -> None:
        import gevent

        plan = self.plan = RunPlan.from_json(json.dumps(msg.data))
        index = max(0, self.runner.worker_index)
        # Worker i sends requests i, i + W, i + 2W, ...: together they cover the plan's count.
        self.tickets = Tickets(quota(plan.request_count, index, plan.expected_workers), index,
                               plan.expected_workers)
        self.env.user_classes = [make_user_class(plan, self.stats, self.tickets)]
        self.env.events.request.add_listener(recorder(self.stats, self.tickets))
        gevent.spawn(self._report_loop, plan.report_interval_s)
        self.runner.send_message("load_ready")

    def _on_stop(self, environment: Any, msg: Any, **_kw: Any) -> None:
        import gevent

        assert self.plan is not None
        self.tickets.closed = True
        deadline = time.monotonic() + self.plan.timeout_s + STOP_GRACE_S
        while self.tickets.in_flight > 0 and time.monotonic() < deadline:
            gevent.sleep(0.05)
        self.final = True
        self._send_window(final=True)


def run_worker(master_host: str, master_port: int, watch_parent: bool = False) -> int:
    """Connect to a master, take its plan, send statistics windows until told to quit."""
    import gevent

    stop = StopFlag()
    stop.install(watch_parent)
    worker = _Worker(master_host, master_port)
    worker.runner.send_message("load_hello")

    def quit_when_stopped() -> None:
        while stop.reason is None:
            gevent.sleep(0.2)
        worker.runner.quit()
    gevent.spawn(quit_when_stopped)
    worker.runner.greenlet.join()
    return 0


# -- entry point ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness.load.engine")
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--result", type=Path)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--watch-parent", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.worker:
        return run_worker(args.master_host, args.master_port, args.watch_parent)
    if args.plan is None or args.result is None:
        parser.error("--plan and --result are required")
    plan = RunPlan.read(args.plan)
    stop = StopFlag()
    stop.install(args.watch_parent)
    result = run_master(plan, stop) if plan.distributed else run_local(plan, stop)
    partial = args.result.with_suffix(".tmp")
    partial.write_text(json.dumps(result))
    partial.replace(args.result)
    print(json.dumps({"type": "done", "reason": result["reason"]}), flush=True)
    return 0
