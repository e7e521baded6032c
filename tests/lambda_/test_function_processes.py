"""Processes a function starts die with its execution environment, however it ends.

Real functions through awslambdaric; the children are real `sleep` processes: one in the
runtime's session, one in a session of its own, one double-forked.
"""

from __future__ import annotations

import json
import time

from harness.config import LambdaConfig
from tests.emulator.support import own_emulator
from tests.lambda_.children import SPAWNS, alive, processes, wait_gone

# Every stop below takes well under a second here; the deadline only bounds a failing test.
GONE_DEADLINE_S = 30


def invoke(client, name: str, payload: dict) -> tuple[dict, object]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return response, json.loads(response["Payload"].read())


def spawn(client, name: str) -> list:
    """Have the function start its three children; they run, each a real process."""
    response, body = invoke(client, name, {"action": "spawn"})
    assert "FunctionError" not in response, body
    children = processes(body["pids"])
    assert alive(children) == children  # they really run: the test below can fail
    return children


def test_children_die_when_the_runtime_crashes(lambda_client, create_function):
    name = create_function({"app.py": SPAWNS})
    children = spawn(lambda_client, name)
    response, body = invoke(lambda_client, name, {"action": "exit"})
    assert body["errorType"] == "Runtime.ExitError"
    assert wait_gone(children, GONE_DEADLINE_S) == []


def test_children_die_when_the_invocation_times_out(lambda_client, create_function):
    name = create_function({"app.py": SPAWNS}, Timeout=1)
    children = spawn(lambda_client, name)
    response, body = invoke(lambda_client, name, {"action": "sleep", "seconds": 30})
    assert body["errorType"] == "Sandbox.Timedout"
    assert wait_gone(children, GONE_DEADLINE_S) == []


def test_children_die_when_the_runtime_goes_over_its_memory(lambda_client, create_function):
    name = create_function({"app.py": SPAWNS}, MemorySize=128)
    children = spawn(lambda_client, name)
    response, body = invoke(lambda_client, name, {"action": "allocate", "mb": 300})
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert wait_gone(children, GONE_DEADLINE_S) == []


def test_children_die_when_a_new_configuration_retires_the_environment(lambda_client,
                                                                      create_function):
    name = create_function({"app.py": SPAWNS})
    children = spawn(lambda_client, name)
    lambda_client.update_function_configuration(FunctionName=name,
                                                Environment={"Variables": {"NEW": "1"}})
    # The next invocation runs in a new environment; the old one is retired and stopped.
    response, body = invoke(lambda_client, name, {})
    assert "FunctionError" not in response
    assert wait_gone(children, GONE_DEADLINE_S) == []


def test_children_die_when_the_idle_environment_is_stopped(tmp_path):
    with own_emulator(tmp_path, lambda_=LambdaConfig(keep_alive_s=1.0)) as own:
        name = own.create_function({"app.py": SPAWNS})
        children = spawn(own.client("lambda"), name)
        assert wait_gone(children, GONE_DEADLINE_S) == []
        assert own.emulator.lambdas is not None and own.emulator.lambdas.environments() == 0


def test_children_die_when_the_emulator_stops_and_the_stop_is_quick(tmp_path):
    with own_emulator(tmp_path) as own:
        name = own.create_function({"app.py": SPAWNS})
        children = spawn(own.client("lambda"), name)
        runtime = processes([json.loads(own.client("lambda").invoke(
            FunctionName=name)["Payload"].read())["runtime"]])
        own.created.clear()  # nothing to delete once stopped (the name is unique anyway)
        stopping = time.monotonic()
        own.emulator.stop()
        took = time.monotonic() - stopping
    # The stop kills the tree and waits for nothing else: ~0.1 s here. It used to wait 5 s on
    # the output pipe the orphans held; 4 s is far above any stop on a loaded machine and still
    # below that wait.
    assert took < 4.0, f"stopping the emulator took {took:.1f} s"
    assert alive(children + runtime) == []
