"""``harness run``: validation before anything starts, exit codes, JUnit XML and JSON."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.cli.run import settings_from

ROOT = Path(__file__).resolve().parents[2]


def test_a_malformed_file_exits_2_naming_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: bad\nsteps:\n  - create_bucket: {bucket: b}\n  - uplaod: {}\n")
    assert main(["run", str(ROOT / "scenarios" / "seed_slip.yaml"), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4: steps[1].uplaod: unknown step 'uplaod' (did you mean 'upload'?)" in err
    assert "embedded endpoint" not in err  # nothing was started


def test_a_missing_file_exits_2(capsys):
    assert main(["run", "no/such/file.yaml"]) == 2
    assert "no/such/file.yaml: no such file" in capsys.readouterr().err


def test_a_target_whose_endpoint_is_down_is_a_one_line_usage_error(capsys):
    assert main(["run", "scenarios/seed_slip.yaml", "--target", "compose",
                 "--endpoint-url", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--target compose: the harness service is not up" in err and "\n" not in err


def test_only_example_needs_one_file_with_a_property_section(capsys):
    assert main(["run", str(ROOT / "scenarios" / "seed_slip.yaml"),
                 "--only-example", "{}"]) == 2
    assert "--only-example needs exactly one file, with a property section" in \
        capsys.readouterr().err


def test_settings_come_from_flags_then_the_environment():
    args = argparse.Namespace(target=None, endpoint_url=None, ci=None)
    assert settings_from(args, {}) == ("embedded", None, False)
    assert settings_from(args, {"CI": "true", "HARNESS_ENDPOINT_URL": "http://h:1"}) == (
        "embedded", "http://h:1", True)
    flags = argparse.Namespace(target="embedded", endpoint_url="http://x:2", ci=False)
    assert settings_from(flags, {"CI": "1", "HARNESS_TARGET": "aws"}) == (
        "embedded", "http://x:2", False)


def test_run_on_the_embedded_emulator_writes_junit_and_json(tmp_path):
    env = dict(os.environ, HARNESS_STATE_DIR=str(tmp_path / "state"), PYTHONUNBUFFERED="1")
    env.pop("HARNESS_ENDPOINT_URL", None)
    junit, report = tmp_path / "out" / "junit.xml", tmp_path / "out" / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "scenarios/seed_slip.yaml",
         "tests/scenario/fixtures/slip_unexpected.yaml", "--junit", str(junit),
         "--json", str(report)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "==> embedded endpoint http://127.0.0.1:" in done.stderr
    assert "[2/4] upload s3://lh-lambda-buckets-202222/validation/test_features.npy" in done.stderr
    assert "2 scenario(s): 1 passed, 1 failed" in done.stdout
    assert "slip_unexpected.yaml:9: step 2 upload (upload to the misspelt bucket): S3 answered " \
        "NoSuchBucket" in done.stdout
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "1", "1")
    suite = root.find("testsuite[@file='tests/scenario/fixtures/slip_unexpected.yaml']")
    assert suite is not None and suite.get("failures") == "1"
    failed = suite.find("testcase[@name='step 2 upload (upload to the misspelt bucket)']")
    assert failed is not None and failed.get("line") == "9"
    assert "lh-lambda-buckets-202222" in failed.find("failure").get("message")
    results = json.loads(report.read_text())
    assert results["passed"] is False
    assert [s["passed"] for s in results["scenarios"]] == [True, False]


@pytest.mark.parametrize("args", [["--help"]])
def test_help_documents_the_options(args, capsys):
    with pytest.raises(SystemExit):
        main(["run", *args])
    out = capsys.readouterr().out
    for option in ("--target", "--endpoint-url", "--junit", "--json", "--ci", "--seed",
                   "--only-example"):
        assert option in out
