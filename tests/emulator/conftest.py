from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

ROLE = "arn:aws:iam::123456789012:role/test-role"
_names = itertools.count()

TRIVIAL = '''
import os, time, json
print("init of", os.environ["AWS_LAMBDA_FUNCTION_NAME"])
def handler(event, context):
    print("event", json.dumps(event))
    action = event.get("action") if isinstance(event, dict) else None
    if action == "raise":
        raise ValueError("boom: " + str(event.get("why")))
    if action == "exit":
        os._exit(int(event.get("code", 3)))
    if action == "sleep":
        time.sleep(float(event["seconds"]))
    if action == "unserialisable":
        return {"x": object()}
    if action == "big":
        return "x" * int(event["size"])
    return {"echo": event, "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "function": context.function_name, "memory": context.memory_limit_in_mb,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "pid": os.getpid()}
'''


@pytest.fixture(scope="session")
def lambda_client(harness_client):
    from botocore.config import Config

    # No client-side retries: the tests look at what one call answers (throttles included).
    return harness_client("lambda", config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="session")
def iam_role(harness_client) -> str:
    iam = harness_client("iam")
    try:
        iam.create_role(RoleName="test-role", AssumeRolePolicyDocument="{}")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return ROLE


@pytest.fixture
def create_function(lambda_client, iam_role, make_zip) -> Callable[..., str]:
    """Create a function from source files; returns its (unique) name."""
    created: list[str] = []

    def create(files: dict[str, str] | None = None, handler: str = "app.handler",
               **config) -> str:
        name = f"fn-{next(_names)}"
        lambda_client.create_function(
            FunctionName=name, Runtime="python3.12", Role=iam_role, Handler=handler,
            Code={"ZipFile": make_zip(files or {"app.py": TRIVIAL})}, **config)
        created.append(name)
        return name

    yield create
    for name in created:
        lambda_client.delete_function(FunctionName=name)
