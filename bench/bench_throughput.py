"""Maximum sustained throughput of the harness: POST /predict through execute-api, per setting.

For a trivial function and for the ML function, with 1, 2, 4 and 8 execution environments
(reserved concurrency N, N keep-alive connections, no think time), the load generator runs in a
separate process: bench/loadgen.py (lean asyncio client) for the ceiling, and the Locust engine
of `harness load` for comparison. Each row also says how much CPU the generator, the emulator
process and the function runtimes used, and the load average when it started; with py-spy
installed, the emulator is profiled at the best trivial setting to show what limits it.

    python bench/bench_throughput.py [--duration 10] [--envs 1,2,4,8] [--no-locust] [--no-profile]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from bench.measure import busy_share  # noqa: E402
from harness.config import EmulatorConfig  # noqa: E402
from harness.deploy import StackSpec, Target, deploy  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.features import encode_features  # noqa: E402
from harness.package import build_package, zip_files  # noqa: E402

HERE = Path(__file__).resolve().parent
TRIVIAL = ("def handler(event, context):\n"
           "    return {'statusCode': 200, 'body': '{\"ok\": true}'}\n")


@dataclass(frozen=True)
class Target_:
    name: str
    function: str
    url: str
    body: bytes


@dataclass
class Row:
    function: str
    envs: int
    generator: str
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    non_2xx: int
    gen_cpu: float
    """Generator CPU as a share of one core."""
    emulator_cpu: float
    runtimes_cpu: float
    machine_busy: float
    """Share of all cores busy (everything on the machine)."""
    load_avg: float




def setup(emulator: Emulator, state: Path) -> tuple[list[Target_], Any]:
    import boto3
    import numpy as np

    package = build_package(state / "build")
    target = Target(endpoint_url=emulator.url)
    stack = deploy(target, StackSpec(), package)
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=stack.region)
    s3 = session.client("s3", endpoint_url=emulator.url)
    lam = session.client("lambda", endpoint_url=emulator.url)
    apigw = session.client("apigateway", endpoint_url=emulator.url)
    features = np.load(package.holdout_features)[:10]
    s3.put_object(Bucket=stack.bucket, Key="bench/ten-rows.npy",
                  Body=encode_features(features, "npy"))
    trivial = lam.create_function(
        FunctionName="bench-trivial", Runtime="python3.12", Handler="app.handler",
        Role="arn:aws:iam::123456789012:role/harness-predict-role", MemorySize=128,
        Code={"ZipFile": zip_files({"app.py": TRIVIAL})})
    api_id = _proxy_api(apigw, "bench-trivial-api", trivial["FunctionArn"], stack.region)
    # API Gateway may invoke a function only with its resource-based policy's leave.
    lam.add_permission(FunctionName="bench-trivial", StatementId="apigateway-invoke",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{stack.region}:123456789012:{api_id}/*")
    base = emulator.url
    targets = [
        Target_("trivial", "bench-trivial", f"{base}/_aws/execute-api/{api_id}/dev/predict",
                b"{}"),
        Target_("ml", stack.function_name, stack.invoke_url,
                json.dumps({"bucket": stack.bucket, "key": "bench/ten-rows.npy"}).encode()),
    ]
    return targets, lam


def _proxy_api(apigw: Any, name: str, function_arn: str, region: str) -> str:
    """A REST API with POST /predict -> the function (AWS_PROXY), deployed to stage dev."""
    api_id = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    route = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="predict")["id"]
    apigw.put_method(restApiId=api_id, resourceId=route, httpMethod="POST",
                     authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id, resourceId=route, httpMethod="POST", type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}"
            "/invocations")
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    return str(api_id)


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _runtime_cpu(generator_pid: int | None) -> float:
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        if child.pid == generator_pid:
            continue
        try:
            total += _cpu(child)
        except psutil.NoSuchProcess:
            continue
    return total


def run_loadgen(target: Target_, envs: int, warmup: float, duration: float,
                workdir: Path) -> tuple[dict[str, Any], dict[str, float]]:
    body = workdir / f"{target.name}.json"
    body.write_bytes(target.body)
    proc = subprocess.Popen([sys.executable, str(HERE / "loadgen.py"), target.url,
                             "--connections", str(envs), "--warmup", str(warmup),
                             "--duration", str(duration), "--body", str(body)],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(warmup)  # measure the same window the generator counts
    usage = _usage_start(proc.pid)
    time.sleep(duration)
    measured = _usage_end(usage, proc.pid, duration)
    out, _ = proc.communicate(timeout=duration + warmup + 60)
    return json.loads(out.strip().splitlines()[-1]), measured


def _usage_start(generator_pid: int | None) -> dict[str, Any]:
    return {"emulator": _cpu(psutil.Process()), "runtimes": _runtime_cpu(generator_pid),
            "machine": psutil.cpu_times(), "t": time.monotonic()}


def _usage_end(start: dict[str, Any], generator_pid: int | None,
               duration: float) -> dict[str, float]:
    return {"emulator": (_cpu(psutil.Process()) - start["emulator"]) / duration,
            "runtimes": (_runtime_cpu(generator_pid) - start["runtimes"]) / duration,
            "machine": busy_share(start["machine"], psutil.cpu_times())}


def run_locust(target: Target_, envs: int, warmup: float, duration: float,
               workdir: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """The `harness load` engine (Locust FastHttpUser, local runner) in its own process."""
    from harness.load.generator import run_generator
    from harness.load.plan import RunPlan
    from harness.load.stats import LoadStats

    plan = RunPlan(url=target.url, users=envs, spawn_rate=envs, duration_s=warmup + duration,
                   requests=({"kind": "valid", "body": target.body.decode(), "expect": "2xx",
                              "s3_reads": 0},))
    box: dict[str, Any] = {}

    def sample_when_warm(line: dict[str, Any]) -> None:
        if "start" not in box and line.get("elapsed", 0) >= warmup:
            box["start"] = _usage_start(None)

    outcome = run_generator(plan, workdir / f"locust-{target.name}-{envs}", sample_when_warm)
    measured = _usage_end(box["start"], None, duration) if "start" in box else {}
    stats = LoadStats.from_wire(outcome.result["stats"])
    started = float(outcome.result["started"])
    rows = [r for r in stats.timeline(started) if warmup <= r["t"] < warmup + duration]
    answered = sum(r["requests"] for r in rows)
    summary = stats.summary()
    wall = float(outcome.result["ended"]) - started
    cpu_share = float(outcome.result["generator_cpu_s"]) / wall
    # Locust's process CPU is part of "runtimes" above (it is a child): take it out.
    if measured:
        measured["runtimes"] = max(0.0, measured["runtimes"] - cpu_share)
    return ({"rps": answered / duration, "p50_ms": summary["latency_ms"]["p50"],
             "p99_ms": summary["latency_ms"]["p99"],
             "statuses": {k: v for k, v in summary["kinds"].items() if v},
             "cpu_s": cpu_share * (warmup + duration)}, measured)


def measure(target: Target_, envs: int, generator: str, lam: Any, args: argparse.Namespace,
            workdir: Path) -> Row:
    lam.put_function_concurrency(FunctionName=target.function, ReservedConcurrentExecutions=envs)
    load_avg = os.getloadavg()[0]
    warmup = args.warmup if target.name == "trivial" else args.warmup_ml
    runner = run_loadgen if generator == "loadgen" else run_locust
    result, used = runner(target, envs, warmup, args.duration, workdir)
    statuses = Counter({k: int(v) for k, v in result["statuses"].items()})
    non_2xx = sum(v for k, v in statuses.items() if not str(k).startswith("2"))
    return Row(target.name, envs, generator, result["rps"], result["p50_ms"], result["p99_ms"],
               non_2xx, result["cpu_s"] / (warmup + args.duration), used.get("emulator", 0.0),
               used.get("runtimes", 0.0), used.get("machine", 0.0), load_avg)


def profile(seconds: float, target: Target_, envs: int, lam: Any, args: argparse.Namespace,
            workdir: Path) -> str:
    """py-spy on this process (the emulator) while loadgen drives ``target``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return "profile skipped: py-spy is not installed (pip install 'harness[bench]')"
    lam.put_function_concurrency(FunctionName=target.function, ReservedConcurrentExecutions=envs)
    raw = workdir / "emulator.pyspy.txt"
    body = workdir / "profile-body.json"
    body.write_bytes(target.body)
    gen = subprocess.Popen([sys.executable, str(HERE / "loadgen.py"), target.url,
                            "--connections", str(envs), "--warmup", "1",
                            "--duration", str(seconds + 2), "--body", str(body)],
                           stdout=subprocess.DEVNULL)
    time.sleep(1.5)
    subprocess.run([spy, "record", "--pid", str(os.getpid()), "--duration", str(int(seconds)),
                    "--rate", "200", "--format", "raw", "--output", str(raw), "--nonblocking",
                    "--gil"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    gen.wait()
    if not raw.exists():
        return "profile failed: py-spy could not attach (ptrace permission?)"
    return summarize_profile(raw.read_text())


_GROUPS = (("harness/apigw", "harness apigw (routing, proxy event)"),
           ("harness/lambda_", "harness lambda_ (invoke, pool, runtime API)"),
           ("harness/emulator", "harness emulator (app, WSGI environ)"),
           ("harness/http_core", "harness http_core (the HTTP/1.1 core: both servers)"),
           ("harness/http_wire", "harness http_wire (the checked response writer)"),
           ("harness/metrics", "harness metrics (CloudWatch metrics, usage)"),
           ("moto/", "moto (control-plane lookups)"), ("werkzeug", "werkzeug"),
           ("json/", "json"),
           ("concurrent/futures", "concurrent.futures (thread pools)"),
           ("Condition.", "threading.Condition (hand-offs between threads)"),
           ("socket.py", "socket"), ("selectors", "selectors"),
           ("uuid", "uuid"), ("logging", "logging"))


def summarize_profile(raw: str, top: int = 12) -> str:
    own: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")[1:]  # the first item names the thread
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        seen = set()
        for frame in frames:
            for needle, name in _GROUPS:
                if needle in frame and name not in seen:
                    groups[name] += count
                    seen.add(name)
    if not total:
        return "profile: no samples"
    lines = [f"emulator process, {total} samples of the thread holding the GIL:",
             "  self time by function:"]
    lines += [f"    {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines.append("  inclusive time by part (a sample can count in several):")
    lines += [f"    {n / total:6.1%}  {name}" for name, n in groups.most_common()]
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    head = ("| function | envs | generator | req/s | p50 ms | p99 ms | non-2xx | generator CPU "
            "(core) | emulator CPU (core) | runtimes CPU (core) | machine busy | load avg |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"
        lines.append(f"| {r.function} | {r.envs} | {r.generator} | {r.rps:,.0f} | {ms(r.p50_ms)} "
                     f"| {ms(r.p99_ms)} | {r.non_2xx} | {r.gen_cpu:.0%} | {r.emulator_cpu:.0%} "
                     f"| {r.runtimes_cpu:.0%} | {r.machine_busy:.0%} | {r.load_avg:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--warmup-ml", type=float, default=8.0,
                        help="unmeasured seconds first for the ML function (cold starts)")
    parser.add_argument("--envs", default="1,2,4,8")
    parser.add_argument("--functions", default="trivial,ml")
    parser.add_argument("--no-locust", action="store_true", help="skip the Locust rows")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    envs_list = [int(x) for x in args.envs.split(",")]
    work = Path(tempfile.mkdtemp(prefix="harness-bench-tp-"))
    config = EmulatorConfig(port=0, state_dir=work / "state")
    rows: list[Row] = []
    profile_text = ""
    print(f"cores {os.cpu_count()}, load average at start {os.getloadavg()[0]:.2f}",
          file=sys.stderr)
    with Emulator(config) as emulator:
        targets, lam = setup(emulator, work)
        for target in [t for t in targets if t.name in args.functions.split(",")]:
            for envs in envs_list:
                generators = ["loadgen"] + ([] if args.no_locust else ["locust"])
                for generator in generators:
                    row = measure(target, envs, generator, lam, args, work)
                    print(f"{row.function} envs={row.envs} {row.generator}: {row.rps:,.0f} req/s",
                          file=sys.stderr)
                    rows.append(row)
        if not args.no_profile and "trivial" in args.functions:
            profile_text = profile(args.duration, targets[0], max(envs_list), lam, args, work)
    print(table(rows))
    if profile_text:
        print()
        print(profile_text)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
