"""``harness cost`` for a rate the user gives (a past run's report is tested with the runs)."""

from __future__ import annotations

import json

import pytest

from harness.cli.main import main


def test_a_rate_sustained_for_a_month(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--rate", "10", "--duration", "730h"]) == 0
    out = capsys.readouterr().out
    # worked by hand in test_cost.py: $119.27 on x86_64 after the free tier
    assert "$119.27 x86_64" in out
    assert "lambda_requests 2628%" in out and "warning" in out


def test_json_output_and_arm64(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--rate", "0.1", "--duration", "730h", "--billed-ms", "100",
                 "--memory-mb", "128", "--arch", "arm64", "--s3-gets-per-request", "0",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["architecture"] == "arm64" and data["warnings"] == []
    assert data["monthly_usage"]["lambda_requests"] == pytest.approx(262_800)
    assert data["projected_monthly_usd"] == 0.0


@pytest.mark.parametrize("argv", [["cost"], ["cost", "--rate", "0"],
                                  ["cost", "--rate", "5", "--duration", "soon"]])
def test_mistakes_are_one_line_usage_errors(argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "harness cost: error:" in capsys.readouterr().err
