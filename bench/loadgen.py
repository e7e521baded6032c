"""A lean load generator for benchmarks: N keep-alive connections, one asyncio loop, one process.

It sends one pre-built HTTP/1.1 request over and over on each connection (closed loop, no think
time) and prints one JSON line: answers in the measured window, their rate, latency percentiles,
status counts and the process's own CPU time. It parses only the status line and Content-Length,
so it costs the machine far less per request than Locust; bench_throughput.py runs it as a
separate process.

    python bench/loadgen.py URL --connections 8 --warmup 2 --duration 10 [--body FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_CLOSE = re.compile(rb"(?i)\r\nconnection:\s*close")


def build_request(url: str, body: bytes) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return host, port, head + body


async def _connection(host: str, port: int, request: bytes, start: float, stop: float,
                      latencies: list[float], statuses: Counter[int], errors: Counter[str]) -> None:
    reader = writer = None
    while time.perf_counter() < stop:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
                writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                                           socket.TCP_NODELAY, 1)
            assert reader is not None
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            if match:
                await reader.readexactly(int(match.group(1)))
            done = time.perf_counter()
            if done >= start:
                latencies.append(done - sent)
                statuses[int(head[9:12])] += 1
            if _CLOSE.search(head) or not match:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def run(url: str, body: bytes, connections: int, warmup: float,
              duration: float) -> dict[str, object]:
    host, port, request = build_request(url, body)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    now = time.perf_counter()
    start, stop = now + warmup, now + warmup + duration
    await asyncio.gather(*(_connection(host, port, request, start, stop, latencies, statuses,
                                       errors) for _ in range(connections)))
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[max(1, int(p / 100 * len(latencies) + 0.5)) - 1] * 1000

    return {"requests": len(latencies), "rps": len(latencies) / duration,
            "p50_ms": pct(50), "p99_ms": pct(99),
            "statuses": {str(k): v for k, v in statuses.items()}, "errors": dict(errors)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--body", type=Path, help="file with the request body (default {})")
    args = parser.parse_args()
    body = args.body.read_bytes() if args.body else b"{}"
    cpu0 = os.times()
    result = asyncio.run(run(args.url, body, args.connections, args.warmup, args.duration))
    cpu1 = os.times()
    result["cpu_s"] = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    result["wall_s"] = args.warmup + args.duration
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
