"""`harness demo`, the main job, as the README's first command runs it."""

from __future__ import annotations

import re
import subprocess

from tests.cli.up_process import harness_cmd


def test_demo_prints_predictions_accuracy_and_report_lines(cli_env):
    done = subprocess.run(harness_cmd("demo"), env=cli_env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"predictions \(\d+ rows, HTTP 200", out)
    # The packaged model (seed 0) classifies all 30 held-out rows right, every time.
    assert "accuracy against held-out labels: 1.000 (30/30)" in out
    assert "START RequestId:" in out and "END RequestId:" in out
    assert re.search(r"REPORT RequestId: \S+  Duration: [\d.]+ ms  Billed Duration: \d+ ms", out)
    assert "Init Duration" in out
    for step in ("upload", "list s3://", "POST http://127.0.0.1:"):
        assert step in done.stderr
    # Deployed from lambda_fn/template.yaml through CloudFormation, its package as sam uploads it
    assert "deploy creating stack harness-predict" in done.stderr
    assert "s3://harness-artifacts-123456789012-eu-west-2/harness-predict/" in done.stderr


def test_demo_the_seeds_way_with_joblib_features(cli_env):
    done = subprocess.run(harness_cmd("demo", "--format", "joblib"), env=cli_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "test_features.joblib" in done.stderr
