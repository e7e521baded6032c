"""``harness load --queue``: a queue of a template stack driven at a rate, every message timed
from its send to the mapping's delete, the depth and the concurrency sampled."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from harness.load.queue_drive import QueueDrive, drive

APP = Path(__file__).resolve().parents[2] / "examples" / "queue-app" / "template.yaml"


def test_every_message_is_processed_and_timed(tmp_path: Path) -> None:
    said: list[str] = []
    report = drive(QueueDrive(template=APP, queue="Jobs", rate=40, messages=60,
                              parameters=(("MaxConcurrency", "2"),)), said.append, tmp_path)
    assert (report["sent"], report["processed"], report["unprocessed"]) == (60, 60, 0)
    assert report["drained"] is True and report["send_errors"] == 0
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert 1 <= report["peak_pollers"] <= 2  # MaximumConcurrency 2
    assert report["timeline"] and {"depth", "pollers", "executions"} <= set(report["timeline"][0])
    assert (tmp_path / "queue-report.json").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--queue", "Jobs"], "--queue needs --template"),
    (["--queue", "Jobs", "--template", str(APP), "--endpoint-url", "http://127.0.0.1:1"],
     "drop --endpoint-url"),
    (["--queue", "Jobs", "--template", str(APP), "--parameter", "nonsense"], "KEY=VALUE"),
    (["--queue", "Jobs", "--template", str(APP), "--rate", "0"], "must be positive"),
])
def test_mistakes_are_one_line_errors(args: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", *args]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_queue_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--queue", "Nope", "--template", str(APP), "--messages", "1",
                 "--out", str(tmp_path)]) == 2
    assert "no queue 'Nope' in the stack" in capsys.readouterr().err
