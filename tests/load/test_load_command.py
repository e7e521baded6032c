"""``harness load`` end to end: SLO gates, throttles, workers, Ctrl-C, the HTML report, 10k."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.clock_client import ClockClient
from harness.load.resources import MIN_STEADY_SAMPLES
from tests.cli.up_process import running_up
from tests.load.helpers import REPO, LoadRun, run_load, write_scenario

pytestmark = pytest.mark.slow

# A burst past reserved concurrency with gates set too tight: one run, several checks.
TIGHT = """\
scenario: tight
load:
  users: 6
  spawn_rate: 6
  requests: 600
  reserved_concurrency: 2
  cold_starts: template
  seed: 4
  payloads: {distinct: 12, rows: [1, 10], invalid_share: 0.25}
  slo:
    p50_ms: 0.01
    p99_ms: 0.05
    throttle_rate: 0
    monthly_cost_usd: 0.01
"""

SMALL = """\
scenario: small
load:
  users: 4
  spawn_rate: 4
  requests: 300
  seed: 2
  payloads: {distinct: 10, rows: [1, 10], invalid_share: 0.1}
"""

LONG = """\
scenario: long
load:
  users: 3
  spawn_rate: 3
  duration: 120s
  think_time: 0.01
  seed: 1
  payloads: {distinct: 6, rows: [1, 5]}
"""


@pytest.fixture(scope="module")
def tight_run(tmp_path_factory: pytest.TempPathFactory, load_env: dict[str, str]) -> LoadRun:
    work = tmp_path_factory.mktemp("tight")
    scenario = write_scenario(work, "tight", TIGHT)
    return run_load([str(scenario)], load_env, work / "report")


def test_gates_set_too_tight_fail_the_run_with_exit_3(tight_run: LoadRun) -> None:
    assert tight_run.returncode == 3, tight_run.stderr[-2000:]
    gates = {g["name"]: g["passed"] for g in tight_run.report["slo"]["gates"]}
    assert gates == {"p50_ms": False, "p99_ms": False, "throttle_rate": False,
                     "monthly_cost_usd": False, "requests lost": True}
    assert "p50_ms" in tight_run.stdout and "FAILED" in tight_run.stdout


def test_every_request_sent_is_answered_or_failed(tight_run: LoadRun) -> None:
    client = tight_run.report["client"]
    assert client["sent"] == 600
    assert client["sent"] == client["answered"] + client["failed"]
    assert client["lost"] == 0


def test_the_report_has_exact_percentiles_cold_starts_gb_seconds_and_cost(
        tight_run: LoadRun) -> None:
    report = tight_run.report
    latency = report["client"]["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    harness = report["harness"]
    assert harness["available"] and harness["cold_starts"] >= 1
    assert all(c["init_ms"] > 0 for c in harness["cold_start_list"])
    # forks of one template: every cold start reports the one init the template ran
    assert len({c["init_ms"] for c in harness["cold_start_list"]}) == 1
    assert report["target"]["cold_starts"] == "template"
    assert re.search(r"\ncold starts +template: one init per version", tight_run.stdout)
    assert harness["gb_seconds"] > 0 and harness["billed_duration_ms"]["total"] > 0
    assert harness["max_memory_used_mb"]["max"] > 0
    assert harness["environments_peak"] <= 2  # reserved concurrency 2
    cost = report["cost"]
    assert cost["projected_monthly_usd"] > 0
    assert set(cost["free_tier_share"]) >= {"lambda_requests", "lambda_gb_seconds"}
    assert cost["usage"]["gb_seconds"] == pytest.approx(harness["gb_seconds"])
    assert len(report["timeline"]) >= 1
    for name in ("latency_over_time", "latency_histogram", "throughput", "environments"):
        assert (tight_run.out_dir / f"{name}.png").stat().st_size > 1000


def test_a_burst_past_reserved_concurrency_is_throttled(tight_run: LoadRun) -> None:
    throttles = tight_run.report["throttles"]
    # Through API Gateway a Lambda throttle is a 500 to the client: count it from the harness.
    assert throttles["lambda_throttled"] > 0
    assert throttles["total"] == throttles["lambda_throttled"] + throttles["client_429"]
    assert tight_run.report["client"]["errors"]["5xx"] >= throttles["lambda_throttled"]
    assert tight_run.report["harness"]["throttles"] == throttles["lambda_throttled"]


def test_cloudwatch_holds_what_the_client_and_the_harness_counted(tight_run: LoadRun) -> None:
    report = tight_run.report
    side, harness, client = report["cloudwatch"], report["harness"], report["client"]
    assert side["available"], side
    figures = side["figures"]
    # A fresh emulator: the run is all its minutes hold, so the counts agree exactly.
    assert figures["invocations"] == harness["invocations"] == figures["duration_samples"]
    assert figures["errors"] == harness["function_errors"]
    assert figures["throttles"] == report["throttles"]["lambda_throttled"] > 0
    assert figures["api_count"] == client["answered"]
    assert figures["api_5xx"] == client["errors"]["5xx"]
    assert figures["api_4xx"] == client["errors"]["4xx"]
    assert 0 < figures["duration_avg_ms"] <= figures["duration_max_ms"]
    assert 0 < figures["latency_avg_ms"] <= figures["latency_max_ms"]
    assert 1 <= figures["concurrent_max"] <= 2  # reserved concurrency 2
    assert "CloudWatch Lambda" in tight_run.stdout and "CloudWatch API" in tight_run.stdout


def test_the_payload_mix_has_its_invalid_share(tight_run: LoadRun) -> None:
    assert tight_run.report["payloads"]["kinds"].get("valid", 0) == 9  # 12, a quarter invalid


def test_nothing_is_left_running(tight_run: LoadRun) -> None:
    assert tight_run.seen_pids and tight_run.leftovers() == []


def test_the_html_report_renders_its_plots_in_headless_chromium(tight_run: LoadRun,
                                                                tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    page = tight_run.out_dir / "report.html"
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    # the page's own script counts the images that decoded with a width: all 4 plots
    assert 'data-plots="4/4"' in dom
    shot = tmp_path / "report.png"
    subprocess.run([*base, "--hide-scrollbars", "--window-size=1100,1900",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=60,
                   check=True)
    assert shot.stat().st_size > 20_000


def test_two_workers_share_the_load(tmp_path: Path, load_env: dict[str, str]) -> None:
    scenario = write_scenario(tmp_path, "small", SMALL)
    run = run_load([str(scenario), "--workers", "2"], load_env, tmp_path / "report")
    assert run.returncode == 0, run.stderr[-2000:]
    report = run.report
    assert report["generator"]["mode"] == "distributed" and report["generator"]["workers"] == 2
    client = report["client"]
    assert client["sent"] == 300 == client["answered"] + client["failed"]
    # nothing unexpected but what the function failed (a busy machine can time out an init);
    # the invalid payload (1 of 10) got its 4xx, which is not an error
    assert client["unexpected"] == report["harness"]["function_errors"]
    assert client["kinds"]["4xx"] > 0
    assert report["harness"]["invocations"] == 300
    assert run.leftovers() == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_cleanly_and_writes_the_partial_report(
        tmp_path: Path, load_env: dict[str, str], signum: signal.Signals) -> None:
    scenario = write_scenario(tmp_path, "long", LONG)
    run = run_load([str(scenario)], load_env, tmp_path / "report", timeout=120,
                   interrupt_after=6.0, interrupt_with=signum)
    assert run.returncode == 130, run.stderr[-2000:]
    report = run.report
    assert report["interrupted"] is True and report["stopped_by"] == "interrupted"
    # Generous on purpose: the run would last 120 s; the signal comes ~6 s in.
    assert report["duration_s"] < 60
    client = report["client"]
    assert client["sent"] > 0 and client["lost"] == 0
    assert client["sent"] == client["answered"] + client["failed"]
    assert "partial" in run.stderr
    assert (tmp_path / "report" / "report.html").is_file()
    assert run.leftovers() == []


def _client(url: str, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def billing_alarm(url: str) -> str:
    """An alarm at the free-tier boundary (projected charges above $0) notifying an SQS queue
    through SNS; returns the queue's URL."""
    sqs, sns = _client(url, "sqs"), _client(url, "sns")
    queue = sqs.create_queue(QueueName="billing")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    topic = sns.create_topic(Name="billing")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    _client(url, "cloudwatch").put_metric_alarm(
        AlarmName="past-the-free-tier", Namespace="Harness/Billing",
        MetricName="ProjectedMonthlyCharges", Statistic="Maximum",
        Dimensions=[{"Name": "Currency", "Value": "USD"}], Period=3600, EvaluationPeriods=1,
        Threshold=0, ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic])
    return queue


def alarm_notices(url: str, queue: str) -> list[dict[str, Any]]:
    """Advance the clock to the next evaluation until the queue holds a notice (or a deadline)."""
    sqs, clock = _client(url, "sqs"), ClockClient(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        clock.advance(11)
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        if got:
            return [json.loads(json.loads(m["Body"])["Message"]) for m in got]
    return []


def test_an_external_endpoint_has_no_harness_side_figures(tmp_path: Path,
                                                          load_env: dict[str, str]) -> None:
    scenario = write_scenario(tmp_path, "small", SMALL.replace("300", "40"))
    # `harness up` in its own process, as an external endpoint is (and with moto state of its
    # own: the session's example stack is not touched).
    with running_up(dict(load_env, HARNESS_STATE_DIR=str(tmp_path / "up-state"))) as up:
        queue = billing_alarm(up.url)
        run = run_load([str(scenario), "--endpoint-url", up.url], load_env,
                       tmp_path / "report")
        assert run.returncode == 0, run.stderr[-2000:]
        # The replay's projected month passes the free tier: the billing alarm goes off.
        notices = alarm_notices(up.url, queue)
        templated = write_scenario(tmp_path, "templated", SMALL.replace(
            "  seed: 2", "  cold_starts: template\n  seed: 2"))
        refused = run_load([str(templated), "--endpoint-url", up.url], load_env,
                           tmp_path / "refused")
    assert refused.returncode == 2
    assert "runs real cold starts: start it with `harness up --cold-starts template`" \
        in refused.stderr
    assert [n["NewStateValue"] for n in notices] == ["ALARM"]
    assert notices[0]["Trigger"]["MetricName"] == "ProjectedMonthlyCharges"
    report = run.report
    assert report["cost"]["projected_monthly_usd"] > 0
    assert report["harness"]["available"] is False
    assert report["target"]["cold_starts"] == "real"  # as the endpoint's health says
    assert "external endpoint" in report["harness"]["reason"]
    assert report["cost"]["lambda_basis"].startswith("client latency")
    assert report["client"]["sent"] == 40 == report["client"]["answered"]
    # The CloudWatch side is read from the endpoint's CloudWatch, wherever it runs.
    assert report["cloudwatch"]["figures"]["api_count"] == 40
    assert report["cloudwatch"]["figures"]["invocations"] == 40


def test_the_soak_loses_nothing_stays_flat_and_leaves_nothing(
        tmp_path: Path, load_env: dict[str, str]) -> None:
    """scenarios/soak.yaml: 10,000 mixed valid and invalid requests with faults at a rate."""
    run = run_load([str(REPO / "scenarios" / "soak.yaml")], load_env, tmp_path / "soak",
                   timeout=600)
    shown = run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode in (0, 3), shown
    report = run.report
    soak, client = report["soak"], report["client"]
    failed = [g["name"] for g in report["slo"]["gates"] if not g["passed"]]
    if run.returncode == 3:
        # Only a machine too busy to import scikit-learn within the init timeout may fail a
        # latency or error-rate gate here; the soak's own gates must hold regardless.
        assert set(failed) <= {"p99_ms", "error_rate"}, shown
        assert "Runtime.InitTimeout" in report["harness"]["function_error_types"], shown
    acc = soak["accounting"]
    assert client["sent"] == 10_000 == acc["outcomes"] == acc["server_received"], shown
    assert acc["clean"] and acc["lost"] == acc["answered_twice"] == acc["mismatched"] == 0
    # every request that reached the emulator invoked the function once (a REPORT each)
    assert report["harness"]["invocations"] == 10_000 - acc["never_reached"], shown
    # both kinds of request and the faults were really there
    assert client["kinds"]["2xx"] > 5_000 and client["kinds"]["4xx"] > 2_000
    hits = {f["id"]: f["hits"] for f in report["faults"]}
    assert set(hits) == {"fault-1", "fault-2", "fault-3", "fault-4"} and all(hits.values())
    # every crash the injector caused reached the client as API Gateway's 502, no more
    assert client["kinds"]["5xx"] >= hits["fault-4"]
    for series in ("rss_mb", "fds", "threads"):
        assert soak["resources"][series]["flat"], soak["resources"][series]
    # "flat" judged the whole run, however fast the machine: the sampler ran from before the
    # first request to after the last at its interval (a sample may come a little late on a
    # loaded machine, hence the 0.8), and every sample after warm-up was judged, at least the
    # minimum a trend needs.
    samples, checks = soak["samples"], soak["checks"]
    span = samples[-1]["t"] - samples[0]["t"]
    assert samples[-1]["answered"] == acc["server_received"]
    assert span >= report["duration_s"] - checks["sample_interval_s"], (span, report["duration_s"])
    assert len(samples) >= int(0.8 * span / checks["sample_interval_s"]), (len(samples), span)
    steady = soak["resources"]["rss_mb"]["steady_samples"]
    assert steady == len(samples) - int(len(samples) * checks["warmup"])
    assert steady >= MIN_STEADY_SAMPLES
    assert soak["leftovers"] == []
    assert run.leftovers() == []
    assert (run.out_dir / "resources.png").stat().st_size > 0
    rss, fds = soak["resources"]["rss_mb"], soak["resources"]["fds"]
    print(f"\nsoak: {client['sent']:,} sent, {client['answered']:,} answered, lost "
          f"{acc['lost']}, answered twice {acc['answered_twice']}, faults {hits}; memory "
          f"{rss['first']} -> {rss['last']} MB ({rss['per_10k_requests']:+} MB/10k); open files "
          f"{fds['first']} -> {fds['last']}; {report['duration_s']:.0f} s")


def test_harness_cost_reads_a_report_and_a_rate(tight_run: LoadRun) -> None:
    def cost(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "harness.cli.main", "cost", *args],
                              capture_output=True, text=True, check=True, cwd=REPO).stdout

    from_report = cost(str(tight_run.out_dir / "report.json"))
    assert "cost (month)" in from_report and "free tier" in from_report
    shown = tight_run.report["cost"]["monthly"]["x86_64"]["total_usd"]
    assert f"${shown:,.2f} x86_64" in from_report
    # 10 req/s for a month at 100 ms and 512 MB: $119.27 (worked in test_cost.py)
    assert "$119.27 x86_64" in cost("--rate", "10", "--duration", "730h")
