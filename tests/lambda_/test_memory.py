"""MemorySize is enforced on zip functions, and Max Memory Used is the process's real peak."""

from __future__ import annotations

import base64
import json
import os
import sys
import time

from harness.lambda_.logs import parse_report_line
from harness.lambda_.process import RuntimeProcess

ALLOCATES = '''
import os
def handler(event, context):
    block = bytearray(int(event.get("mb", 0)) * 1024 * 1024)  # zero-filled: every page touched
    return {"pid": os.getpid(), "bytes": len(block)}
'''

ALLOCATES_AT_INIT = '''
BLOCK = bytearray(300 * 1024 * 1024)
def handler(event, context):
    return len(BLOCK)
'''


def invoke(client, name, payload):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode(),
                             LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    report = next(r for r in map(parse_report_line, log.splitlines()) if r is not None)
    return response, json.loads(response["Payload"].read()), report


def test_going_over_memory_size_is_runtime_out_of_memory(lambda_client, create_function):
    name = create_function({"app.py": ALLOCATES}, MemorySize=128)
    response, body, report = invoke(lambda_client, name, {"mb": 300})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"] == (f"RequestId: {report.request_id} Error: Runtime exited "
                                    "with error: signal: killed")
    assert report.max_memory_used_mb == report.memory_size_mb == 128


def test_the_environment_is_replaced_after_out_of_memory(lambda_client, create_function):
    name = create_function({"app.py": ALLOCATES}, MemorySize=128)
    _, before, _ = invoke(lambda_client, name, {"mb": 1})
    invoke(lambda_client, name, {"mb": 300})
    response, after, report = invoke(lambda_client, name, {"mb": 1})
    assert "FunctionError" not in response
    assert after["pid"] != before["pid"]
    assert report.cold


def test_max_memory_used_is_the_peak_of_the_process(lambda_client, create_function):
    name = create_function({"app.py": ALLOCATES}, MemorySize=256)
    _, _, idle = invoke(lambda_client, name, {"mb": 0})
    response, body, grown = invoke(lambda_client, name, {"mb": 60})
    assert "FunctionError" not in response and body["bytes"] == 60 * 1024 * 1024
    assert idle.max_memory_used_mb < 60
    assert grown.max_memory_used_mb >= 60 + idle.max_memory_used_mb - 5
    assert grown.max_memory_used_mb < 256


def test_going_over_memory_size_during_init_is_out_of_memory(lambda_client, create_function):
    name = create_function({"app.py": ALLOCATES_AT_INIT}, MemorySize=128)
    response, body, _ = invoke(lambda_client, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"


def test_a_spike_that_is_gone_is_still_caught_by_the_peak(tmp_path):
    """The check reads VmHWM: memory freed before the check still counts, as under a cgroup."""
    code = ("b = bytearray(100 * 1024 * 1024); del b; import sys; "
            "sys.stdout.write('freed\\n'); sys.stdout.flush(); import time; time.sleep(30)")
    exits: list[int] = []
    process = RuntimeProcess([sys.executable, "-c", code], cwd=str(tmp_path), env={},
                             on_exit=exits.append, memory_limit_mb=64)
    process.start()
    try:
        deadline = time.monotonic() + 10
        output = ""
        while "freed" not in output and time.monotonic() < deadline:
            time.sleep(0.01)
            output += process.take_output()
        assert "freed" in output
        assert process.check_memory() is True
        assert process.out_of_memory
        deadline = time.monotonic() + 5
        while not exits and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exits == [-9]
        assert process.peak_memory_mb() > 64
    finally:
        process.kill()


def test_without_a_limit_nothing_is_killed(tmp_path):
    process = RuntimeProcess([sys.executable, "-c", "import time; time.sleep(30)"],
                             cwd=str(tmp_path), env={}, on_exit=lambda code: None)
    process.start()
    try:
        assert process.check_memory() is False
        assert process.pid is not None
        os.kill(process.pid, 0)  # still there
    finally:
        process.kill()
