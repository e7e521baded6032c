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


def test_live_figures_of_a_running_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    from harness.config import EmulatorConfig
    from harness.emulator import Emulator
    from tests.conftest import LOCAL_RUNTIME, ROLE, TRIVIAL, build_zip

    config = EmulatorConfig.from_env({}).with_overrides(port=0, host="127.0.0.1")
    with Emulator(config) as emulator:
        def client(service: str):
            return boto3.client(service, endpoint_url=emulator.url, region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test")

        lam, iam = client("lambda"), client("iam")
        try:
            iam.create_role(RoleName=ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument="{}")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        lam.create_function(FunctionName="metered", Runtime=LOCAL_RUNTIME, Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": build_zip({"app.py": TRIVIAL})},
                            MemorySize=256)
        lam.get_waiter("function_active_v2").wait(FunctionName="metered")
        for _ in range(3):
            assert lam.invoke(FunctionName="metered", Payload=b"{}")["StatusCode"] == 200
        assert main(["cost", "--endpoint-url", emulator.url, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["usage"]["lambda_requests"] == 3
        assert data["usage"]["gb_seconds"] > 0
        assert data["bill"]["total_usd"] == 0.0  # inside the free tier
        assert main(["cost", "--endpoint-url", emulator.url]) == 0
        out = capsys.readouterr().out
        assert f"{emulator.url}: this month so far" in out
        lam.delete_function(FunctionName="metered")  # moto's state is the process's
    assert "3 invocations" in out and "of the tightest allowance used" in out


@pytest.mark.parametrize("argv, says", [
    (["cost", "--rate", "5", "--endpoint-url", "http://127.0.0.1:9"], "give one of"),
    (["cost", "--endpoint-url", "http://127.0.0.1:9"], "no harness emulator answered"),
])
def test_live_mistakes_are_one_line_errors(argv: list[str], says: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "harness cost: error:" in err and says in err and err.count("\n") == 1


def test_an_answer_of_another_shape_is_a_one_line_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    import http.server
    import threading

    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b'{"usage": {}, "bill": {}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Other)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert main(["cost", "--endpoint-url", url]) == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    err = capsys.readouterr().err
    assert "no harness emulator answered /_harness/usage" in err and err.count("\n") == 1
