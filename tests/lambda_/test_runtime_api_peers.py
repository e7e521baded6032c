"""Each environment's Runtime API answers only its own processes: a stranger gets 403, never an
event, while the function keeps answering. Real functions, real connections."""

from __future__ import annotations

import http.client
import json
import threading

FUNCTION = '''
import json, os, subprocess, sys
CHILD = """
import json, os, urllib.error, urllib.request
url = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/init/error"
try:
    urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=10)
    print(json.dumps({"status": 202}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "body": json.loads(error.read())}))
"""

def handler(event, context):
    if event.get("action") == "child-calls-the-runtime-api":
        done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                              timeout=30)
        return json.loads(done.stdout)
    return {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "echo": event,
            "id": context.aws_request_id}
'''


def invoke(client, name: str, payload: dict) -> dict:
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def call(api: str, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    host, port = api.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, "/2018-06-01/runtime" + path, body=body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_a_stranger_polling_next_gets_403_and_no_event_while_the_function_answers(
        lambda_client, create_function):
    name = create_function({"app.py": FUNCTION})
    api = invoke(lambda_client, name, {"warm": True})["api"]
    answers: list[tuple[int, dict]] = []
    done = threading.Event()

    def stranger() -> None:
        while not done.is_set():
            answers.append(call(api, "GET", "/invocation/next"))

    thread = threading.Thread(target=stranger, name="stranger")
    thread.start()
    try:
        for number in range(5):
            body = invoke(lambda_client, name, {"n": number})
            assert (body["api"], body["echo"]) == (api, {"n": number})
    finally:
        done.set()
        thread.join()
    assert answers, "the stranger polled at least once"
    assert {status for status, _ in answers} == {403}
    assert {body["errorType"] for _, body in answers} == {"AccessDenied"}


def test_a_stranger_cannot_post_an_init_error_or_a_result(lambda_client, create_function):
    name = create_function({"app.py": FUNCTION})
    first = invoke(lambda_client, name, {})
    for path in ("/init/error", f"/invocation/{first['id']}/response",
                 f"/invocation/{first['id']}/error"):
        status, body = call(first["api"], "POST", path, b"{}")
        assert (status, body["errorType"]) == (403, "AccessDenied"), path
    assert invoke(lambda_client, name, {"after": 1})["echo"] == {"after": 1}


def test_a_process_the_function_started_is_served_as_its_runtime(lambda_client,
                                                                create_function):
    name = create_function({"app.py": FUNCTION})
    answer = invoke(lambda_client, name, {"action": "child-calls-the-runtime-api"})
    # Routed as the runtime's own call: refused for the environment's state, not for who it is.
    assert answer["status"] == 403
    assert answer["body"]["errorType"] == "Runtime.InvalidStateTransition"
