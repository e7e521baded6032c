"""A replay's report: every figure as JSON, the SLO verdict, and the summary table.

The JSON is the single source: the HTML report, the summary table and ``harness cost`` read it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.load import cloudwatch_side
from harness.load.cost import Usage, cost_report, gb_seconds, snapstart_cache_gb_seconds
from harness.load.replay import Replay
from harness.load.slo import GateResult, accounting_gate, evaluate
from harness.load.soak import account, gates, trends

REPORT_VERSION = 1
COLD_START_TEXT = {
    "real": "real: every new environment ran the function's init on this machine's cores",
    "template": "template: one init per version, new environments forked from it and held back "
                "by its Init Duration (latency as on AWS, where each has its own CPU)",
}


def usage_of(replay: Replay) -> tuple[Usage, Usage, str]:
    """(steady usage, cold starts' usage) of the window, and where Lambda figures come from."""
    summary = replay.stats.summary()
    spec = replay.scenario.load
    harness = replay.harness
    if harness.get("available"):
        steady, cold = lambda_usage(harness, replay.wall_s)
        basis = "REPORT lines"
    else:
        # No REPORT data: every answered call that is not a 429 counts as an invocation lasting
        # as long as the client waited, an upper bound.
        invocations = summary["answered"] - summary["kinds"]["429"]
        steady = Usage(lambda_requests=invocations, gb_seconds=gb_seconds(
            replay.stats.latency_sum_us / 1000.0, replay.scenario.stack.memory_mb))
        cold, basis = Usage(), "client latency (upper bound: no REPORT data)"
    steady = replace(steady, apigw_requests=summary["answered"], s3_get=summary["s3_gets"],
                     s3_put=spec.cost.s3_puts_per_request * summary["sent"],
                     s3_list=spec.cost.s3_lists_per_request * summary["sent"])
    return steady, cold, basis


def lambda_usage(harness: dict[str, Any], window_s: float) -> tuple[Usage, Usage]:
    """(steady, cold) Lambda usage of a window from the harness side's figures (pure).

    Cold starts' Init and restores' Billed Restore Duration, and SnapStart's restore charges,
    are cold: a steady rate keeps its environments, so they do not repeat with every window.
    The snapshots of the SnapStart versions invoked are cached for the whole window, and for
    every window after it: steady.
    """
    cold_gb_s = harness["init_gb_seconds"]
    cache = sum(snapstart_cache_gb_seconds(v["memory_mb"], window_s, minimum_s=0)
                for v in harness.get("snapstart_versions", []))
    steady = Usage(lambda_requests=harness["invocations"],
                   gb_seconds=harness["gb_seconds"] - cold_gb_s,
                   snapstart_cache_gb_seconds=cache)
    return steady, Usage(gb_seconds=cold_gb_s, snapstart_restore_gb=harness.get("restore_gb", 0))


def build_report(replay: Replay) -> dict[str, Any]:
    stats, spec, harness = replay.stats, replay.scenario.load, replay.harness
    summary = stats.summary()
    wall = replay.wall_s
    sent = summary["sent"]
    client_429 = summary["kinds"]["429"]
    lambda_throttles = int(harness.get("throttles", 0)) if harness.get("available") else 0
    steady, cold, basis = usage_of(replay)
    cost = cost_report(steady, wall, spec.cost.architecture, cold=cold,
                       setup=Usage(s3_put=replay.uploads))
    latency = summary["latency_ms"]
    figures = {
        "p50_ms": latency["p50"], "p95_ms": latency["p95"], "p99_ms": latency["p99"],
        "error_rate": summary["unexpected"] / sent if sent else None,
        "throttle_rate": (client_429 + lambda_throttles) / sent if sent else None,
        "monthly_cost_usd": cost.projected_monthly_usd,
    }
    soak, soak_gates = soak_section(replay)
    gates = [*evaluate(spec.slo, figures), accounting_gate(sent, summary["lost"]), *soak_gates]
    cpu_s = float(replay.result.get("generator_cpu_s", 0.0))
    return {
        "version": REPORT_VERSION,
        "scenario": {"name": replay.scenario.name, "file": replay.scenario.path,
                     "description": replay.scenario.description},
        "started": _iso(replay.started), "ended": _iso(float(replay.result["ended"])),
        "duration_s": wall,
        "stopped_by": replay.result.get("reason"),
        "interrupted": replay.interrupted,
        "target": {"endpoint_url": replay.stack.endpoint_url, "invoke_url": replay.stack.invoke_url,
                   "embedded": replay.options.endpoint_url is None,
                   "function": replay.stack.function_name,
                   "memory_mb": replay.scenario.stack.memory_mb,
                   "reserved_concurrency": spec.reserved_concurrency,
                   "cold_starts": replay.extra.get("cold_starts", "unknown")},
        "load": {**asdict(spec), "source": spec.source},
        "payloads": {"distinct": len(replay.payloads.requests),
                     "kinds": replay.payloads.shares(), "seed": replay.payloads.seed,
                     "fingerprint": replay.payloads.fingerprint,
                     "files_uploaded": replay.uploads},
        "generator": {"mode": "distributed" if replay.plan.distributed else "local",
                      "workers": replay.result.get("workers", 0), "cpu_s": cpu_s,
                      "cpu_share_of_machine": cpu_s / (wall * (os.cpu_count() or 1)),
                      "warnings": replay.result.get("warnings", []),
                      "log": str(replay.log_path)},
        "client": {**summary, "throughput_rps": summary["answered"] / wall,
                   "latency_histogram": _histogram_rows(stats)},
        "timeline": stats.timeline(replay.started),
        "throttles": {"client_429": client_429, "lambda_throttled": lambda_throttles,
                      "total": client_429 + lambda_throttles,
                      "note": "through API Gateway a Lambda throttle reaches the client as a "
                              "500; lambda_throttled counts them from the harness side"},
        "harness": harness,
        "cloudwatch": replay.extra.get("cloudwatch"),
        "faults": replay.extra.get("faults", []),
        "soak": soak,
        "cost": {**cost.to_dict(), "lambda_basis": basis},
        "slo": {"gates": [g.to_dict() for g in gates], "passed": all(g.passed for g in gates)},
    }


FLAT = ("after the first {warmup:.0%} of the samples (warm-up), the median of the last quarter "
        "of the samples minus the median of the first quarter is at most the allowed growth")


def soak_section(replay: Replay) -> tuple[dict[str, Any] | None, list[GateResult]]:
    """The soak block of the report and its gates; (None, []) when the run was no soak."""
    data, checks = replay.extra.get("soak"), replay.scenario.load.soak
    if data is None or checks is None:
        return None, []
    plan = replay.plan
    complete = plan.request_count is not None and replay.result.get("reason") == "requests"
    accounting = account(replay.stats.sent, replay.stats.outcomes, data["ledger"],
                         range(plan.request_count) if complete and plan.request_count else None)
    resource_trends = trends(data["samples"], checks)
    left = list(data.get("leftovers", []))
    section = {
        "accounting": accounting.to_dict(),
        "resources": {t.series: t.to_dict() for t in resource_trends},
        "flat_means": FLAT.format(warmup=checks.warmup),
        "samples": [asdict(sample) for sample in data["samples"]],
        "leftovers": left,
        "checks": asdict(checks),
    }
    return section, gates(accounting, resource_trends, left)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _histogram_rows(stats: Any) -> list[list[float]]:
    """[[latency ms, count], ...] at 2 significant digits (the per-second histograms' sum)."""
    from harness.load.stats import SECOND_DIGITS, new_histogram

    coarse = new_histogram(SECOND_DIGITS)
    for second in stats.seconds.values():
        coarse.add(second.latency)
    rows = []
    for item in coarse.get_recorded_iterator():
        rows.append([item.value_iterated_to / 1000.0, item.count_at_value_iterated_to])
    return rows


def write_json(report: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(report, indent=1, default=_jsonable) + "\n")
    partial.replace(path)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, tuple | set):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


# -- the summary table ----------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f} ms"


def summary_table(report: dict[str, Any]) -> str:
    client, harness, cost = report["client"], report["harness"], report["cost"]
    lat = client["latency_ms"]
    errors = client["errors"]
    rows: list[tuple[str, str]] = [
        ("scenario", f"{report['scenario']['name']} ({report['scenario']['file']}), "
                     f"{report['duration_s']:.1f} s, stopped by {report['stopped_by']}"
                     + (" (interrupted: partial report)" if report["interrupted"] else "")),
        ("requests", f"sent {client['sent']:,}  answered {client['answered']:,}  "
                     f"failed {client['failed']:,}  lost {client['lost']:,}  "
                     f"unexpected {client['unexpected']:,}  "
                     f"({client['throughput_rps']:.1f} req/s)"),
        ("latency", f"p50 {_ms(lat['p50'])}  p95 {_ms(lat['p95'])}  p99 {_ms(lat['p99'])}  "
                    f"max {_ms(lat['max'])}  (exact, client side)"),
        ("errors", f"4xx {errors['4xx']:,}  5xx {errors['5xx']:,}  429 {errors['429']:,}  "
                   f"timeouts {errors['timeout']:,}  connection {errors['connection']:,}  "
                   f"other {errors['other']:,}"),
        ("throttles", f"{report['throttles']['total']:,} (client 429s "
                      f"{report['throttles']['client_429']:,}, Lambda throttled "
                      f"{report['throttles']['lambda_throttled']:,})"),
    ]
    rows += harness_rows(harness)
    rows.append(("cold starts", COLD_START_TEXT.get(report["target"].get("cold_starts", ""),
                                                    "as the endpoint runs them (it does not say)")))
    rows += cloudwatch_side.rows(report.get("cloudwatch"))
    rows += _fault_rows(report.get("faults") or [])
    rows += _soak_rows(report.get("soak"))
    rows += cost_rows(cost)
    gen = report["generator"]
    rows.append(("generator", f"{gen['mode']}, {gen['workers']} workers, CPU {gen['cpu_s']:.1f} s"
                              f" = {gen['cpu_share_of_machine']:.0%} of the machine"))
    for gate in report["slo"]["gates"]:
        rows.append(("SLO", GateResult(**gate).describe()))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {text}" for name, text in rows)


def harness_rows(harness: dict[str, Any]) -> list[tuple[str, str]]:
    """The harness side's lines of the summary table (pure)."""
    if not harness.get("available"):
        return [("harness", f"not measured: {harness.get('reason', '')}")]
    init = harness["init_duration_ms"]
    restores = harness.get("restores", 0)
    restored = (f", of which {restores} SnapStart restores (Restore Duration p50 "
                f"{_ms(harness['restore_duration_ms']['p50'])})" if restores else "")
    return [
        ("invocations", f"{harness['invocations']:,}  cold starts {harness['cold_starts']} "
                        f"(Init Duration p50 {_ms(init['p50'])}, max {_ms(init['max'])}"
                        f"{restored})  function errors {harness['function_errors']} "
                        f"{harness.get('function_error_types') or ''}"),
        ("function", f"duration p50 {_ms(harness['duration_ms']['p50'])}  p99 "
                     f"{_ms(harness['duration_ms']['p99'])}  billed "
                     f"{harness['billed_duration_ms']['total']:,} ms  max memory "
                     f"{harness['max_memory_used_mb']['max'] or 0:.0f} MB of "
                     f"{harness['memory_size_mb']} MB  GB-s {harness['gb_seconds']:.3f}"),
        ("environments", f"peak {harness['environments_peak']}  used "
                         f"{harness['environments_used']}"),
    ]


def _fault_rows(faults: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [("fault", f"{f['id']}: {f['target']} {f.get('error') or f['kind']} hit "
                      f"{f['hits']:,} of {f['matched']:,} matching calls") for f in faults]


def _soak_rows(soak: dict[str, Any] | None) -> list[tuple[str, str]]:
    if soak is None:
        return []
    acc = soak["accounting"]
    rows = [("soak ledger", f"sent {acc['sent']:,}  outcomes {acc['outcomes']:,}  lost "
                            f"{acc['lost']}  answered twice {acc['answered_twice']}  received "
                            f"twice {acc['server_duplicates']}  mismatched {acc['mismatched']}"
                            f"  (emulator saw {acc['server_received']:,} ids)")]
    names = {"rss_mb": "soak memory", "fds": "soak open files", "threads": "soak threads"}
    for series, item in soak["resources"].items():
        if item["growth"] is None:
            rows.append((names[series], item["note"]))
            continue
        unit = " MB" if series == "rss_mb" else ""
        rows.append((names[series], f"{item['first']:g}{unit} -> {item['last']:g}{unit} "
                                    f"(growth {item['growth']:+g}{unit}, allowed "
                                    f"{item['allowed']:g}; slope {item['per_10k_requests']:+g}"
                                    f"{unit} per 10k requests; peak {item['peak']:g}{unit})"))
    left = soak["leftovers"]
    rows.append(("soak leftovers", "none" if not left else "; ".join(left)))
    return rows


def cost_rows(cost: dict[str, Any]) -> list[tuple[str, str]]:
    usage, monthly = cost["usage"], cost["monthly_usage"]
    share = cost["free_tier_share"]
    rows = [
        ("cost (run)", f"${cost['run_bill']['total_usd']:.6f} without free tier: "
                       f"{usage['lambda_requests']:,.0f} invocations, "
                       f"{usage['gb_seconds']:.3f} GB-s ({cost['lambda_basis']}), "
                       f"{usage['apigw_requests']:,.0f} API calls, "
                       f"{usage['s3_get']:,.0f} S3 GETs"),
        ("cost (month)", f"at this rate: {monthly['lambda_requests']:,.0f} invocations, "
                         f"{monthly['gb_seconds']:,.0f} GB-s -> "
                         f"${cost['monthly']['x86_64']['total_usd']:,.2f} x86_64 / "
                         f"${cost['monthly']['arm64']['total_usd']:,.2f} arm64 after free tier"),
        ("free tier", "  ".join(f"{name} {value:.0%}" for name, value in share.items())),
    ]
    snap = [item for item in cost["run_bill"]["items"] if "SnapStart" in item["name"]]
    if snap:
        rows.append(("cost (SnapStart)", ", ".join(
            f"{item['name'].removeprefix('lambda SnapStart ')} {item['quantity']:,.3f} "
            f"${item['cost_usd']:.6f}" for item in snap) + " (no free tier)"))
    rows += [("warning", text) for text in cost["warnings"]]
    return rows
