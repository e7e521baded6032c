"""``harness cost``: the cost and free-tier meter for a past run, for a rate you give, or live
from a running emulator (what it has served this month)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.cli.options import endpoint_url

ARCHITECTURES = ("x86_64", "arm64")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "cost", help="Lambda, API Gateway and S3 cost and free-tier share of a run or a rate",
        description="Print the bill, the monthly projection and the free-tier share for a past "
                    "`harness load` run (its report.json), for a request rate sustained for "
                    "a duration, or (--endpoint-url) what a running emulator has served this "
                    "month, with the free tier applied: the figures its AWS/Billing "
                    "EstimatedCharges metric carries. SnapStart's caching and restores are "
                    "billed when used (no free tier). Prices: us-east-1 list prices (see "
                    "harness/load/cost.py).")
    parser.add_argument("report", nargs="?", type=Path, help="report.json of a harness load run")
    parser.add_argument("--endpoint-url", type=endpoint_url, default=None,
                        help="a running emulator (harness up): its usage this month so far")
    parser.add_argument("--rate", type=float, help="requests per second")
    parser.add_argument("--duration", default="1h",
                        help="how long the rate lasts (default 1h; e.g. 30s, 15m, 730h)")
    parser.add_argument("--billed-ms", type=float, default=100.0,
                        help="billed duration per invocation in ms (default 100)")
    parser.add_argument("--memory-mb", type=int, default=512, help="function memory (default 512)")
    parser.add_argument("--arch", choices=ARCHITECTURES, default="x86_64")
    parser.add_argument("--s3-gets-per-request", type=float, default=1.0,
                        help="S3 GETs per request (default 1: the function reads its features)")
    parser.add_argument("--s3-puts-per-request", type=float, default=0.0)
    parser.add_argument("--s3-lists-per-request", type=float, default=0.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness.errors import UsageError
    from harness.load.cost import Usage, cost_report, gb_seconds, usage_from_dict
    from harness.load.report import cost_rows
    from harness.load.spec import parse_duration

    if sum(x is not None for x in (args.report, args.rate, args.endpoint_url)) != 1:
        raise UsageError("give one of: a report.json, --rate (with --duration), or "
                         "--endpoint-url of a running emulator")
    if args.endpoint_url is not None:
        return _live(args.endpoint_url, args.json)
    if args.report is not None:
        try:
            data = json.loads(args.report.read_text())
            cost = data["cost"]
            window = float(cost["window_s"])
            usage = usage_from_dict(cost.get("steady_usage") or cost["usage"])
            cold = usage_from_dict(cost.get("cold_usage") or {})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{args.report}: not a harness load report ({exc})") from None
        arch = args.arch if args.arch != "x86_64" else cost.get("architecture", "x86_64")
        basis = cost.get("lambda_basis", "report")
    else:
        if args.rate <= 0:
            raise UsageError("--rate must be positive")
        try:
            window = parse_duration(args.duration)
        except ValueError as exc:
            raise UsageError(f"--duration: {exc}") from None
        n = args.rate * window
        usage = Usage(lambda_requests=n, gb_seconds=n * gb_seconds(args.billed_ms, args.memory_mb),
                      apigw_requests=n, s3_get=n * args.s3_gets_per_request,
                      s3_put=n * args.s3_puts_per_request, s3_list=n * args.s3_lists_per_request)
        arch, cold = args.arch, Usage()
        basis = f"{args.billed_ms:g} ms billed at {args.memory_mb} MB per request"
    report = {**cost_report(usage, window, arch, cold=cold).to_dict(), "lambda_basis": basis}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"window {window:,.1f} s; prices us-east-1")
    rows = cost_rows(report)
    width = max(len(name) for name, _ in rows)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0


def _live(url: str, as_json: bool) -> int:
    """What the emulator at ``url`` has served this month (GET /_harness/usage)."""
    import urllib.request

    from harness.errors import UsageError

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_harness/usage", timeout=10) as answer:
            data = json.load(answer)
        rows = live_rows(url, data)  # read whole first: an answer of another shape is refused
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{url}: no harness emulator answered /_harness/usage ({exc})") from None
    if as_json:
        print(json.dumps(data, indent=1))
        return 0
    for name, text in rows:
        print(f"{name:<13}  {text}")
    return 0


def live_rows(url: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The live figures as lines (pure)."""
    usage, share, bill = data["usage"], data["free_tier_share"], data["bill"]
    charges = data["charges_usd"]
    rows = [("emulator", f"{url}: this month so far, prices us-east-1, {data['architecture']}"),
            ("usage", f"{usage['lambda_requests']:,.0f} invocations, "
                      f"{usage['gb_seconds']:,.3f} GB-s, {usage['apigw_requests']:,.0f} API "
                      f"calls, {usage['s3_get']:,.0f} S3 GETs, "
                      f"{usage['s3_put'] + usage['s3_list']:,.0f} S3 PUT/LISTs")]
    snapshots = data.get("snapstart_snapshots") or []
    if snapshots or usage.get("snapstart_restore_gb"):
        count = f"{len(snapshots)} version{'' if len(snapshots) == 1 else 's'}"
        rows.append(("SnapStart", f"{count} cached, "
                                  f"{usage.get('snapstart_cache_gb_seconds', 0):,.1f} GB-s "
                                  "(at least 3 hours each), "
                                  f"{usage.get('snapstart_restore_gb', 0):,.3f} GB restored"))
    for item in bill["items"]:
        rows.append(("bill", f"{item['name']}: {item['quantity']:,.3f} ({item['free']:,.0f} "
                             f"free) ${item['cost_usd']:.6f}"))
    rows.append(("charges", f"${bill['total_usd']:.6f} with the free tier (" + ", ".join(
        f"{service} ${usd:.6f}" for service, usd in sorted(charges.items())) + ")"))
    used = max(share.values()) if share else 0.0
    rows.append(("free tier", f"{used:.1%} of the tightest allowance used ("
                 + ", ".join(f"{name} {part:.1%}" for name, part in share.items()) + ")"))
    return rows
