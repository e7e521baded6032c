"""The Runtime API answers only the environment the harness started it for."""

from __future__ import annotations

import json
import threading

ISOLATION = '''
import json, os, time, urllib.request, urllib.error
def handler(event, context):
    me = {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "id": context.aws_request_id}
    if event["role"] == "first":
        with open(event["path"] + ".tmp", "w") as f:
            json.dump(me, f)
        os.replace(event["path"] + ".tmp", event["path"])  # the second reads it whole
        # Busy until the second has tried both posts: its invocation is in flight throughout.
        deadline = time.time() + 30
        while not os.path.exists(event["done"]) and time.time() < deadline:
            time.sleep(0.02)
        return {"role": "first", "id": me["id"], "held": os.path.exists(event["done"])}
    deadline = time.time() + 30
    while not os.path.exists(event["path"]) and time.time() < deadline:
        time.sleep(0.02)
    other = json.load(open(event["path"]))
    def post(api, request_id):
        req = urllib.request.Request(
            f"http://{api}/2018-06-01/runtime/invocation/{request_id}/response",
            data=b'{"stolen": true}', method="POST")
        try:
            return urllib.request.urlopen(req, timeout=5).status
        except urllib.error.HTTPError as e:
            return e.code
    result = {"role": "second", "same_api": other["api"] == me["api"],
              "my_id_at_other_env": post(other["api"], me["id"]),
              "other_id_at_my_env": post(me["api"], other["id"])}
    open(event["done"], "w").close()
    return result
'''


def test_an_environment_cannot_answer_another_environments_invocation(
        lambda_client, create_function, tmp_path):
    name = create_function({"app.py": ISOLATION}, Timeout=60)
    marker, done = str(tmp_path / "first.json"), str(tmp_path / "second-done")
    results: dict[str, dict] = {}

    def call(role: str) -> None:
        response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(
            {"role": role, "path": marker, "done": done}).encode())
        results[role] = json.loads(response["Payload"].read())

    first = threading.Thread(target=call, args=("first",))
    first.start()
    call("second")
    first.join(timeout=30)
    assert results["second"]["same_api"] is False
    # Refused as a stranger there (403 AccessDenied), before any id is looked at.
    assert results["second"]["my_id_at_other_env"] == 403
    assert results["second"]["other_id_at_my_env"] == 400
    # The first invocation was in flight all along, and was not hijacked: it returned its own
    # result.
    assert results["first"] == {"role": "first", "id": results["first"]["id"], "held": True}
