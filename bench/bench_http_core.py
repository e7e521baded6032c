"""Which HTTP/1.1 core should serve the emulator and the Runtime APIs: the same trivial WSGI app
(200, a 12-byte JSON body) behind each candidate server, driven by bench/loadgen.py.

Each server runs in its own process, the load generator in another (N keep-alive connections,
closed loop); a row gives req/s, p50/p99 latency and the server's CPU per request (its process
and any it started, over the measured window), with ratios to the core the harness serves with
(``harness.http_core``; the ``http.server`` one it replaced measured about half its req/s:
README). Rounds are interleaved and the median is kept, because other work shares the machine.
Candidates not installed in the project's venv (waitress, cheroot, uvicorn, granian, gunicorn)
run with ``--extra-python``, a scratch venv's interpreter:

    python -m venv /tmp/hc && /tmp/hc/bin/pip install waitress cheroot uvicorn httptools \\
        a2wsgi granian gunicorn
    python bench/bench_http_core.py [--extra-python /tmp/hc/bin/python] [--connections 1,4,16]
        [--duration 5] [--rounds 3] [--only core,werkzeug]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BODY = b'{"ok": true}'
POOL = 16
"""Worker threads of every pooled candidate: one per connection at the largest load here."""


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The trivial app every candidate serves: read the body, answer 200 with JSON."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]


# --- the servers (run in a child process: ``--serve NAME --port P``) -------------------------

def _listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


def serve_core(port: int) -> None:
    sys.path.insert(0, str(ROOT))
    from harness.http_core import HttpCore, wsgi_handler

    listener = _listener(port)
    server = HttpCore(listener, wsgi_handler(app, listener.getsockname())).start()
    signal.sigwait({signal.SIGTERM})
    server.close()


def serve_werkzeug(port: int) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    WSGIRequestHandler.log_request = lambda *_args, **_kw: None  # type: ignore[method-assign]
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def serve_waitress(port: int) -> None:
    import waitress

    waitress.serve(app, host="127.0.0.1", port=port, threads=POOL, _quiet=True)


def serve_cheroot(port: int) -> None:
    from cheroot import wsgi

    wsgi.Server(("127.0.0.1", port), app, numthreads=POOL).start()


def serve_uvicorn(port: int) -> None:
    import uvicorn
    from a2wsgi import WSGIMiddleware

    uvicorn.run(WSGIMiddleware(app, workers=POOL), host="127.0.0.1", port=port,
                http="httptools", loop="asyncio", log_level="warning", access_log=False)


def serve_granian(port: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    Granian("bench_http_core:app", address="127.0.0.1", port=port, interface=Interfaces.WSGI,
            workers=1, blocking_threads=POOL, log_enabled=False).serve()


def serve_gunicorn(port: int) -> None:
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1",
                              "--threads", str(POOL), "-b", f"127.0.0.1:{port}",
                              "--log-level", "warning", "bench_http_core:app"])


@dataclass(frozen=True)
class Candidate:
    name: str
    serve: Callable[[int], None]
    extra: bool
    """Needs --extra-python (not in the project's lock)."""
    model: str
    excluded: str = ""
    """Why it cannot serve the emulator and the Runtime APIs as they are, whatever its speed."""


CANDIDATES = (
    Candidate("core", serve_core, False, "harness.http_core: thread per connection, own parser"),
    Candidate("werkzeug", serve_werkzeug, False, "werkzeug dev server, thread per connection",
              "closes the connection after every response (no keep-alive)"),
    Candidate("waitress", serve_waitress, True, f"asyncore I/O thread + pool of {POOL}",
              "bounded worker pool (deadlocks once every worker waits on a callback)"),
    Candidate("cheroot", serve_cheroot, True, f"selector + pool of {POOL}",
              "bounded worker pool (deadlocks once every worker waits on a callback)"),
    Candidate("uvicorn", serve_uvicorn, True, f"asyncio + httptools, a2wsgi pool of {POOL}",
              "ASGI: WSGI through a bounded thread pool, a hand-off per request"),
    Candidate("granian", serve_granian, True, f"Rust I/O, worker process, {POOL} threads",
              "the app runs in a worker process it spawns (threads only on free-threaded "
              "Python builds); bounded blocking-thread pool"),
    Candidate("gunicorn", serve_gunicorn, True, f"prefork, 1 gthread worker, {POOL} threads",
              "prefork worker processes; bounded thread pool"),
)


# --- the driver ---------------------------------------------------------------------------

@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    """Server CPU (process and children) per answered request, microseconds."""
    cpu_share: float
    """Server CPU as a share of one core."""
    gen_share: float
    errors: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int, requests: int) -> int:
    """How many of ``requests`` sent one after another on one connection got a 200."""
    request = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"
    answers = 0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for _ in range(requests):
            got = b""
            try:
                sock.sendall(request)
                while not got.endswith(BODY):
                    chunk = sock.recv(4096)
                    if not chunk:
                        return answers
                    got += chunk
            except OSError:
                return answers
            answers += got.startswith(b"HTTP/1.1 200")
    return answers


def _probe(port: int, deadline: float) -> bool:
    """Wait for the server; True when it answers two requests on one connection."""
    while time.monotonic() < deadline:
        try:
            if _answers(port, 1) == 1:
                return _answers(port, 2) == 2
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer")


def _tree_cpu(proc: Any) -> float:
    import psutil

    total = 0.0
    for each in [proc, *proc.children(recursive=True)]:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def start_server(candidate: Candidate, python: str,
                 log: Any) -> tuple[subprocess.Popen[bytes], int, bool]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    proc = subprocess.Popen([python, str(Path(__file__)), "--serve", candidate.name,
                             "--port", str(port)], cwd=HERE, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        return proc, port, _probe(port, time.monotonic() + 30)
    except BaseException:
        stop_server(proc)
        raise


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(port: int, server_pid: int, connections: int, warmup: float,
            duration: float) -> Sample:
    import psutil

    server = psutil.Process(server_pid)
    gen = subprocess.Popen([sys.executable, str(HERE / "loadgen.py"), f"http://127.0.0.1:{port}/",
                            "--connections", str(connections), "--warmup", str(warmup),
                            "--duration", str(duration)], stdout=subprocess.PIPE, text=True)
    time.sleep(warmup)  # the window the generator counts
    before = _tree_cpu(server)
    time.sleep(duration)
    spent = _tree_cpu(server) - before
    out, _ = gen.communicate(timeout=warmup + duration + 60)
    result = json.loads(out.strip().splitlines()[-1])
    answered = max(1, result["requests"])
    return Sample(result["rps"], result["p50_ms"] or 0.0, result["p99_ms"] or 0.0,
                  spent / answered * 1e6, spent / duration,
                  result["cpu_s"] / (warmup + duration),
                  sum(result["errors"].values()) + sum(
                      v for k, v in result["statuses"].items() if k != "200"))


def run(candidates: list[Candidate], args: argparse.Namespace
        ) -> tuple[dict[tuple[str, int], list[Sample]], dict[str, bool]]:
    samples: dict[tuple[str, int], list[Sample]] = {}
    keep_alive: dict[str, bool] = {}
    for round_no in range(args.rounds):
        for candidate in candidates:
            python = args.extra_python if candidate.extra else sys.executable
            proc, port, keep_alive[candidate.name] = start_server(candidate, python, args.log)
            try:
                for connections in args.connections:
                    sample = measure(port, proc.pid, connections, args.warmup, args.duration)
                    samples.setdefault((candidate.name, connections), []).append(sample)
                    print(f"round {round_no + 1} {candidate.name} c={connections}: "
                          f"{sample.rps:,.0f} req/s, {sample.cpu_us:.0f} us/req, "
                          f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)
            finally:
                stop_server(proc)
    return samples, keep_alive


def _median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(s, field) for s in samples)


def table(candidates: list[Candidate], connections: list[int],
          samples: dict[tuple[str, int], list[Sample]], keep_alive: dict[str, bool]) -> str:
    lines = ["| server | conns | req/s | x core | p50 ms | p99 ms | server CPU us/req "
             "| x core | server CPU (core) | loadgen CPU (core) | errors |",
             "|" + "---|" * 11]
    for candidate in candidates:
        for conns in connections:
            rows = samples.get((candidate.name, conns))
            base = samples.get(("core", conns))
            if not rows:
                continue
            rps, cpu = _median(rows, "rps"), _median(rows, "cpu_us")
            x_rps = f"{rps / _median(base, 'rps'):.2f}" if base else "-"
            x_cpu = f"{cpu / _median(base, 'cpu_us'):.2f}" if base else "-"
            name = candidate.name + ("" if keep_alive.get(candidate.name) else " (no keep-alive)")
            lines.append(f"| {name} | {conns} | {rps:,.0f} | {x_rps} "
                         f"| {_median(rows, 'p50_ms'):.2f} | {_median(rows, 'p99_ms'):.2f} "
                         f"| {cpu:.0f} | {x_cpu} | {_median(rows, 'cpu_share'):.0%} "
                         f"| {_median(rows, 'gen_share'):.0%} "
                         f"| {sum(s.errors for s in rows)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--connections", default="1,4,16")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated candidate names")
    parser.add_argument("--extra-python", help="interpreter with the candidates outside the lock")
    parser.add_argument("--server-log", type=Path, help="servers' stderr (default: dropped)")
    parser.add_argument("--json", type=Path, help="also write every sample here")
    args = parser.parse_args()
    if args.serve:
        next(c for c in CANDIDATES if c.name == args.serve).serve(args.port)
        return 0
    args.connections = [int(x) for x in args.connections.split(",")]
    wanted = set(args.only.split(",")) if args.only else {c.name for c in CANDIDATES}
    candidates = [c for c in CANDIDATES if c.name in wanted]
    if not args.extra_python:
        skipped = [c.name for c in candidates if c.extra]
        if skipped:
            print(f"skipped (give --extra-python): {', '.join(skipped)}", file=sys.stderr)
        candidates = [c for c in candidates if not c.extra]
    print(f"cores {os.cpu_count()}, load average at start {os.getloadavg()[0]:.2f}",
          file=sys.stderr)
    with open(args.server_log or os.devnull, "ab") as log:
        args.log = log
        samples, keep_alive = run(candidates, args)
    print(table(candidates, args.connections, samples, keep_alive))
    print()
    for candidate in candidates:
        print(f"{candidate.name}: {candidate.model}; "
              f"{candidate.excluded or 'fits the constraints (in process, no bounded pool)'}")
    print(f"medians of {args.rounds} interleaved rounds; load average at end "
          f"{os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({f"{k[0]}@{k[1]}": [s.__dict__ for s in v]
                                         for k, v in samples.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
