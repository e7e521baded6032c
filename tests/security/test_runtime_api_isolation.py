"""The Runtime API answers only the environment the harness started it for."""

from __future__ import annotations

import json
import threading

ISOLATION = '''
import json, os, time, urllib.request, urllib.error
def handler(event, context):
    me = {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "id": context.aws_request_id}
    if event["role"] == "first":
        with open(event["path"], "w") as f:
            json.dump(me, f)
        time.sleep(1.5)
        return {"role": "first", "id": me["id"]}
    deadline = time.time() + 10
    while not os.path.exists(event["path"]) and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    other = json.load(open(event["path"]))
    def post(api, request_id):
        req = urllib.request.Request(
            f"http://{api}/2018-06-01/runtime/invocation/{request_id}/response",
            data=b'{"stolen": true}', method="POST")
        try:
            return urllib.request.urlopen(req, timeout=5).status
        except urllib.error.HTTPError as e:
            return e.code
    return {"role": "second", "same_api": other["api"] == me["api"],
            "my_id_at_other_env": post(other["api"], me["id"]),
            "other_id_at_my_env": post(me["api"], other["id"])}
'''


def test_an_environment_cannot_answer_another_environments_invocation(
        lambda_client, create_function, tmp_path):
    name = create_function({"app.py": ISOLATION}, Timeout=10)
    marker = str(tmp_path / "first.json")
    results: dict[str, dict] = {}

    def call(role: str) -> None:
        response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(
            {"role": role, "path": marker}).encode())
        results[role] = json.loads(response["Payload"].read())

    first = threading.Thread(target=call, args=("first",))
    first.start()
    call("second")
    first.join(timeout=30)
    assert results["second"]["same_api"] is False
    assert results["second"]["my_id_at_other_env"] == 400
    assert results["second"]["other_id_at_my_env"] == 400
    # The first invocation was not hijacked: it returned its own result.
    assert results["first"] == {"role": "first", "id": results["first"]["id"]}
