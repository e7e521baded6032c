"""`harness up` as a user runs it: the seed's own helpers, the AWS CLI, deploy, POST, Ctrl-C."""

from __future__ import annotations

import io
import json
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request

import numpy as np
import psutil

from tests.cli.conftest import BIN
from tests.cli.up_process import harness_cmd


def test_health_check_answers(harness_up):
    with urllib.request.urlopen(harness_up.url + "/_harness/health", timeout=5) as response:
        health = json.load(response)
    assert health["status"] == "running"
    assert set(health["services"]) >= {"s3", "lambda", "apigateway", "iam", "sts", "logs"}


def test_up_prints_the_export_line(harness_up):
    # The fixture read stdout up to "ready on URL"; the export line is printed right after it.
    stdout = harness_up.process.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    line = lines.get(timeout=30)  # the thread ends at EOF when the fixture stops `up`, at worst
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", harness_up.url)
    assert line.strip() == f"export AWS_ENDPOINT_URL={harness_up.url}"


def test_seed_helpers_unchanged_work_with_only_the_endpoint_set(harness_up, monkeypatch):
    from tests.e2e import seed_client

    for key, value in harness_up.env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    seed_client.create_bucket("lh-lambda-buckets-2022", "eu-west-2")
    seed_client.upload_file_to_bucket(io.BytesIO(b"abc"), "lh-lambda-buckets-2022",
                                      "validation/test_features.joblib", "eu-west-2")
    assert seed_client.list_bucket("lh-lambda-buckets-2022") == ["validation/test_features.joblib"]
    import boto3

    location = boto3.client("s3", region_name="eu-west-2").get_bucket_location(
        Bucket="lh-lambda-buckets-2022")["LocationConstraint"]
    assert location == "eu-west-2"


def test_aws_cli_s3_and_lambda_invoke(harness_up, tmp_path):
    aws = [str(BIN / "aws")]
    env = harness_up.env

    def run(*args: str) -> str:
        done = subprocess.run(aws + list(args), env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("s3", "mb", "s3://cli-bucket", "--region", "eu-west-2")
    source = tmp_path / "hello.txt"
    source.write_text("hello")
    run("s3", "cp", str(source), "s3://cli-bucket/hello.txt")
    assert "hello.txt" in run("s3", "ls", "s3://cli-bucket")
    # A function, created and invoked through the CLI too.
    import zipfile

    package = tmp_path / "fn.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'got': event}\n")
    run("iam", "create-role", "--role-name", "r", "--assume-role-policy-document", "{}")
    run("lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.12",
        "--role", "arn:aws:iam::123456789012:role/r", "--handler", "app.handler",
        "--zip-file", f"fileb://{package}")
    out = tmp_path / "out.json"
    # awscli v1 sends --payload as given (v2 would want --cli-binary-format raw-in-base64-out).
    result = json.loads(run("lambda", "invoke", "--function-name", "cli-fn",
                            "--payload", '{"a": 1}', str(out)))
    assert result["StatusCode"] == 200
    assert json.loads(out.read_text()) == {"got": {"a": 1}}


def test_deploy_then_post_then_sigint_stops_every_child(harness_up, tmp_path):
    done = subprocess.run(harness_cmd("deploy", "--endpoint-url", harness_up.url),
                          env=harness_up.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    stack = json.loads(done.stdout)
    assert set(stack) >= {"invoke_url", "bucket", "function_name", "api_id", "region"}
    import boto3

    s3 = boto3.client("s3", region_name=stack["region"], endpoint_url=harness_up.url,
                      aws_access_key_id="test", aws_secret_access_key="test")
    buffer = io.BytesIO()
    np.save(buffer, np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]))
    s3.put_object(Bucket=stack["bucket"], Key="x.npy", Body=buffer.getvalue())
    request = urllib.request.Request(
        stack["invoke_url"], method="POST",
        data=json.dumps({"bucket": stack["bucket"], "key": "x.npy"}).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        assert len(json.load(response)["predictions"]) == 2
    children = harness_up.children()
    assert any("awslambdaric" in " ".join(c.cmdline()) for c in children)
    harness_up.process.send_signal(signal.SIGINT)
    assert harness_up.process.wait(timeout=30) in (0, 130)
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def test_bad_port_is_a_one_line_usage_error():
    done = subprocess.run(harness_cmd("up", "--port", "99999"), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert "port must be 0-65535" in done.stderr
    assert "Traceback" not in done.stderr


def test_busy_port_is_a_one_line_error(harness_up):
    port = harness_up.url.rsplit(":", 1)[1]
    done = subprocess.run(harness_cmd("up", "--port", port), capture_output=True, text=True,
                          timeout=30, env=harness_up.env)
    assert done.returncode == 2
    assert "cannot listen on" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreachable_endpoint_deploy_is_a_one_line_error(cli_env):
    done = subprocess.run(harness_cmd("deploy", "--endpoint-url", "http://127.0.0.1:9"),
                          capture_output=True, text=True, timeout=120, env=cli_env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("harness deploy: error:")
    assert "Traceback" not in done.stderr


def test_help_explains_every_command():
    done = subprocess.run(harness_cmd("--help"), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    for command in ("up", "deploy", "demo"):
        assert command in done.stdout
    assert sys.executable
