"""``harness load``: replay a load scenario with Locust and report latency, cold starts, cost."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.cli.main import EXIT_INTERRUPTED
from harness.cli.options import endpoint_url, port

EXIT_SLO_FAILED = 3


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "load", help="replay a load scenario (Locust) and check its SLO gates",
        description="Deploy the example stack on the embedded emulator (or use --endpoint-url), "
                    "upload the scenario's payload mix, replay its load with Locust in a "
                    "separate process, and write report.json and report.html with exact "
                    "latency percentiles, cold starts, throttles, GB-seconds and the projected "
                    "monthly bill (a load.soak section adds request-by-request accounting, "
                    "memory and open-file trends and a leftover check). Exit status: 0 when "
                    "every gate holds, 3 when one fails, "
                    "130 on Ctrl-C (the partial report is still written).")
    parser.add_argument("scenario", nargs="?", type=Path,
                        help="scenario file with a load: section, e.g. scenarios/load-seed.yaml")
    parser.add_argument("--endpoint-url", type=endpoint_url, default=None,
                        help="replay against this endpoint instead of an embedded emulator "
                             "(harness-side figures are then not measured)")
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="start a Locust master and N worker processes on this machine")
    parser.add_argument("--remote-workers", type=int, default=0, metavar="M",
                        help="also wait for M workers started elsewhere with "
                             "`harness load --worker --master-host ... --master-port ...`")
    parser.add_argument("--master-bind", default="127.0.0.1",
                        help="address the master listens on (default 127.0.0.1; remote "
                             "workers need an address they can reach)")
    parser.add_argument("--master-port", type=port, default=0,
                        help="port the master listens on (default 0: a free one, printed)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report directory (default load-reports/<scenario>-<time>)")
    parser.add_argument("--no-progress", action="store_true", help="no live progress line")
    parser.add_argument("--worker", action="store_true",
                        help="run as a Locust worker of a `harness load` master")
    parser.add_argument("--master-host", default="127.0.0.1",
                        help="with --worker: the master's address")
    parser.add_argument("--watch-parent", action="store_true", help=argparse.SUPPRESS)
    queue = parser.add_argument_group(
        "driving a queue", "Instead of a scenario: deploy --template on the embedded emulator, "
        "send --messages messages to its queue --queue at --rate a second, and report "
        "send-to-processed latency per message, the queue's depth over time and the event "
        "source mapping's concurrency (queue-report.json in --out)")
    queue.add_argument("--queue", metavar="QUEUE", help="the queue's logical id or name")
    queue.add_argument("--template", type=Path, help="the SAM or CloudFormation template")
    queue.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                       help="a template parameter (repeatable)")
    queue.add_argument("--rate", type=float, default=50.0, help="messages a second (default 50)")
    queue.add_argument("--messages", type=int, default=500, help="messages to send (default 500)")
    parser.set_defaults(run=run)


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from harness.errors import UsageError

    if args.worker:
        from harness.load.engine import run_worker

        return run_worker(args.master_host, args.master_port or 5557, args.watch_parent)
    if args.queue is not None:
        return _drive_queue(args)
    if args.scenario is None:
        raise UsageError("give a scenario file (e.g. scenarios/load-seed.yaml), --queue with "
                         "--template, or --worker")
    if args.workers < 0 or args.remote_workers < 0:
        raise UsageError("--workers and --remote-workers must be 0 or more")
    from harness.load.plots import write_html
    from harness.load.replay import LoadOptions, replay
    from harness.load.report import build_report, summary_table, write_json
    from harness.load.scenario_file import read_load_scenario

    scenario = read_load_scenario(args.scenario)
    if scenario.load.users < args.workers + args.remote_workers:
        raise UsageError(f"{args.scenario}: {scenario.load.users} users cannot be spread over "
                         f"{args.workers + args.remote_workers} workers")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("load-reports") / f"{args.scenario.stem}-{stamp}"
    options = LoadOptions(endpoint_url=args.endpoint_url, workers=args.workers,
                          remote_workers=args.remote_workers, master_bind=args.master_bind,
                          master_port=args.master_port, out_dir=out,
                          progress=not args.no_progress)
    result = replay(scenario, options, _say)
    report = build_report(result)
    if args.endpoint_url is not None:
        from harness.load.publish import publish_projection

        publish_projection(args.endpoint_url, report)  # for billing alarms on the endpoint
    json_path = write_json(report, out)
    summary = summary_table(report)
    html_path = write_html(report, out, summary)
    print(summary)
    print(f"report: {json_path}  {html_path}  (plots: {out}/*.png)")
    if result.interrupted:
        print("harness load: interrupted, the report above is partial", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0 if report["slo"]["passed"] else EXIT_SLO_FAILED


def _drive_queue(args: argparse.Namespace) -> int:
    from harness.errors import UsageError
    from harness.load.queue_drive import QueueDrive, drive, summary_lines

    if args.template is None:
        raise UsageError("--queue needs --template: the stack whose queue and mapping to drive")
    if args.endpoint_url is not None:
        raise UsageError("--queue runs on the embedded emulator (the per-message latency is "
                         "measured on the harness side); drop --endpoint-url")
    parameters = []
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--parameter takes KEY=VALUE, got {item!r}")
        parameters.append((key, value))
    out = args.out or Path("load-reports") / f"queue-{time.strftime('%Y%m%d-%H%M%S')}"
    spec = QueueDrive(template=args.template.resolve(), queue=args.queue, rate=args.rate,
                      messages=args.messages, parameters=tuple(parameters))
    report = drive(spec, _say, out)
    print("\n".join(summary_lines(report)))
    print(f"report: {out / 'queue-report.json'}")
    return 0 if report["drained"] and not report["send_errors"] else EXIT_SLO_FAILED
