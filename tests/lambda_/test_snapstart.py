"""SnapStart through the emulator with plain boto3: a published version initialises once, its
new environments restore from that snapshot (forks of an initialised template)."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from botocore.exceptions import ClientError

from harness.lambda_.logs import parse_report_line
from tests.emulator.support import own_emulator
from tests.lambda_.rendezvous import with_rendezvous

SNAP_RUNTIME = "python3.12"  # SnapStart's oldest Python; the local interpreter runs it
# A CPU-heavy init, a before-snapshot hook that draws a random seed (AWS's caveat: every
# restored environment shares it) and an after-restore hook that records the restore. With
# {"wait_for": DIR, "count": N} the handler waits until N invocations are in flight at once.
SNAP_APP = '''
import os, random, time, json
from rendezvous import wait_for_others
from snapshot_restore_py import register_before_snapshot, register_after_restore

WORK = sum(i * i for i in range(int(os.environ.get("INIT_WORK", "2000000"))))
SEED = None
RESTORES = []

@register_before_snapshot
def draw_seed():
    global SEED
    SEED = random.random()
    print("before snapshot", SEED)

@register_after_restore
def restored():
    RESTORES.append(os.getpid())
    mode = os.environ.get("RESTORE_MODE")
    if mode == "raise":
        raise RuntimeError("the database is gone")
    if mode == "sleep":
        time.sleep(float(os.environ["RESTORE_SLEEP"]))
    print("restored in", os.getpid())

def handler(event, context):
    wait_for_others(event)
    return {"seed": SEED, "restores": RESTORES, "pid": os.getpid(),
            "tmp": os.environ.get("TMPDIR"), "stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
            "key": os.environ.get("AWS_ACCESS_KEY_ID"), "api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
'''
SNAP_START = {"ApplyOn": "PublishedVersions"}
# An after-restore hook is cut off after AWS's 10 s: this one asks for more.
TOO_SLOW_S = "30"


def _published(lam, create_function, **environment: str) -> tuple[str, str, dict]:
    name = create_function(with_rendezvous(SNAP_APP), runtime=SNAP_RUNTIME, SnapStart=SNAP_START,
                           Timeout=90, Environment={"Variables": environment})
    published = lam.publish_version(FunctionName=name)
    version = published["Version"]
    lam.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    return name, version, published


def _invoke(lam, name: str, qualifier: str | None = None, payload: dict | None = None):
    args = {"Qualifier": qualifier} if qualifier else {}
    response = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(),
                          LogType="Tail", **args)
    tail = base64.b64decode(response["LogResult"]).decode()
    reports = [r for r in map(parse_report_line, tail.splitlines()) if r is not None]
    return json.loads(response["Payload"].read()), reports[-1], tail


def test_restored_environments_share_the_snapshot_and_run_their_hooks(
        lambda_client, create_function, tmp_path: Path) -> None:
    name, version, published = _published(lambda_client, create_function)
    assert published["State"] == "Pending"
    assert published["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    config = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    assert config["State"] == "Active"
    latest = lambda_client.get_function_configuration(FunctionName=name)
    assert latest["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}

    rendezvous = tmp_path / "in-flight"
    rendezvous.mkdir()
    event = {"wait_for": str(rendezvous), "count": 6}
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: _invoke(lambda_client, name, version, event), range(6)))

    bodies = [body for body, _, _ in results]
    assert len({body["pid"] for body in bodies}) == 6  # six environments
    for body, report, tail in results:
        assert body["restores"] == [body["pid"]]  # its own after-restore hook, once
        assert report.init_duration_ms is None and "Init Duration" not in tail
        assert report.restore_duration_ms is not None
        assert report.billed_restore_duration_ms is not None
        assert "\tRestore Duration: " in tail and "\tBilled Restore Duration: " in tail
        assert body["stream"] is None  # AWS hides the log stream's name from SnapStart
    seeds = {body["seed"] for body in bodies}
    assert len(seeds) == 1 and None not in seeds  # drawn once, before the snapshot
    # Each its own TMPDIR, Runtime API and execution-role session (fresh STS credentials).
    for own in ("tmp", "api", "key"):
        assert len({body[own] for body in bodies}) == 6, own

    # $LATEST is not affected: an ordinary cold start, its init in full, no hooks.
    body, report, tail = _invoke(lambda_client, name)
    assert report.init_duration_ms is not None and report.restore_duration_ms is None
    assert body["seed"] is None and body["restores"] == []
    # The init is a CPU-heavy loop (about a second); a restore forks past it. Its restore
    # takes a fraction of that even on a loaded machine, so the margin is wide.
    assert max(r.restore_duration_ms for _, r, _ in results) < report.init_duration_ms


def test_a_warm_restored_environment_reports_no_restore(lambda_client, create_function) -> None:
    name, version, _ = _published(lambda_client, create_function, INIT_WORK="1000")
    first, cold, _ = _invoke(lambda_client, name, version)
    second, warm, tail = _invoke(lambda_client, name, version)
    assert first["pid"] == second["pid"]
    assert cold.restore_duration_ms is not None
    assert warm.restore_duration_ms is None and "Restore Duration" not in tail


def test_a_failing_after_restore_hook_is_snapstart_exception(
        lambda_client, create_function) -> None:
    name, version, _ = _published(lambda_client, create_function, INIT_WORK="1000",
                                  RESTORE_MODE="raise")
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
    error = caught.value.response
    assert error["Error"]["Code"] == "SnapStartException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_after_restore_hook_past_ten_seconds_is_snapstart_timeout(
        lambda_client, create_function) -> None:
    name, version, _ = _published(lambda_client, create_function, INIT_WORK="1000",
                                  RESTORE_MODE="sleep", RESTORE_SLEEP=TOO_SLOW_S)
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
    error = caught.value.response
    assert error["Error"]["Code"] == "SnapStartTimeoutException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 408
    assert time.monotonic() - started >= 10  # cut off at AWS's limit, not before


def test_snapstart_needs_python_3_12_or_later(lambda_client, create_function) -> None:
    with pytest.raises(ClientError) as caught:
        create_function(with_rendezvous(SNAP_APP), runtime="python3.11", SnapStart=SNAP_START)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "python3.11" in caught.value.response["Error"]["Message"]


def test_a_failing_init_leaves_the_version_failed(lambda_client, create_function) -> None:
    name = create_function({"app.py": "raise SystemExit('no model')\n"}, runtime=SNAP_RUNTIME,
                           SnapStart=SNAP_START)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    deadline = time.monotonic() + 60  # an init that fails at once: seconds at most
    config = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    while config["State"] == "Pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        config = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    assert config["State"] == "Failed"
    assert config["StateReasonCode"] == "FunctionError"


def test_stopping_the_emulator_leaves_no_template_or_fork(tmp_path: Path) -> None:
    # The session's emulator keeps environments of its own: what this emulator started is
    # what appeared below this process meanwhile (templates, their forks and supervisors).
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with own_emulator(tmp_path) as emu:
        lam = emu.client("lambda")
        iam = emu.client("iam")
        role = iam.create_role(RoleName="snap-role", AssumeRolePolicyDocument="{}")["Role"]
        lam.create_function(FunctionName="snap", Runtime=SNAP_RUNTIME, Role=role["Arn"],
                            Handler="app.handler", SnapStart=SNAP_START,
                            Environment={"Variables": {"INIT_WORK": "1000"}},
                            Code={"ZipFile": _zip(with_rendezvous(SNAP_APP))})
        version = lam.publish_version(FunctionName="snap")["Version"]
        lam.get_waiter("published_version_active").wait(
            FunctionName="snap", Qualifier=version, WaiterConfig={"Delay": 0.2})
        body, report, _ = _invoke(lam, "snap", version)
        assert report.restore_duration_ms is not None
        started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        assert body["pid"] in {p.pid for p in started}  # the fork is below this process
        assert len(started) >= 4  # template and its supervisor, the fork and its supervisor
    _gone, alive = psutil.wait_procs(started, timeout=30)  # a stop takes milliseconds
    assert alive == []
    assert not Path(body["tmp"]).exists()  # the environment's TMPDIR went with it


def _zip(files: dict[str, str]) -> bytes:
    from harness.package import zip_files

    return zip_files(files)


def test_a_function_without_snapstart_reports_it_off(lambda_client, create_function) -> None:
    name = create_function()
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}


def test_snapstart_turned_on_by_an_update_applies_to_the_next_version(
        lambda_client, create_function) -> None:
    name = create_function(with_rendezvous(SNAP_APP), runtime=SNAP_RUNTIME,
                           Environment={"Variables": {"INIT_WORK": "1000"}})
    lambda_client.update_function_configuration(FunctionName=name, SnapStart=SNAP_START)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    body, report, _ = _invoke(lambda_client, name, version)
    assert report.restore_duration_ms is not None and body["restores"] == [body["pid"]]


def test_the_example_ml_function_predicts_from_restored_environments(
        lambda_client, harness_client, harness_package, tmp_path: Path) -> None:
    """scikit-learn and its BLAS threads loaded before the fork: each restored environment
    still predicts the held-out rows right (numpy's thread pools survive a fork)."""
    import numpy as np

    from harness.features import encode_features

    iam, s3 = harness_client("iam"), harness_client("s3")
    role = iam.create_role(RoleName=f"snap-ml-{tmp_path.name[-12:]}",
                           AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.attach_role_policy(RoleName=role.rsplit("/", 1)[1],
                           PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    bucket = "snap-ml-features"
    s3.create_bucket(Bucket=bucket)
    features = np.load(harness_package.holdout_features)
    labels = np.load(harness_package.holdout_labels)
    s3.put_object(Bucket=bucket, Key="holdout.npy", Body=encode_features(features, "npy"))
    name = f"snap-ml-{tmp_path.name[-12:]}"
    lambda_client.create_function(
        FunctionName=name, Runtime=SNAP_RUNTIME, Role=role, Handler="handler.lambda_handler",
        Code={"ZipFile": harness_package.zip_bytes}, MemorySize=512, Timeout=60,
        SnapStart=SNAP_START, Environment={"Variables": {"ALLOWED_BUCKETS": bucket}})
    try:
        version = lambda_client.publish_version(FunctionName=name)["Version"]
        lambda_client.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier=version,
            WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
        event = {"bucket": bucket, "key": "holdout.npy"}
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(
                lambda _: _invoke(lambda_client, name, version, event), range(2)))
        for body, report, _ in results:
            assert report.restore_duration_ms is not None
            assert body.get("statusCode") == 200, body
            predictions = json.loads(body["body"])["predictions"]
            assert predictions == labels.tolist()
    finally:
        lambda_client.delete_function(FunctionName=name)


def test_invoking_a_version_still_pending_is_snapstart_not_ready(
        lambda_client, create_function) -> None:
    # An init of several seconds of CPU: the invoke right after PublishVersion comes first.
    name = create_function(with_rendezvous(SNAP_APP), runtime=SNAP_RUNTIME, SnapStart=SNAP_START,
                           Environment={"Variables": {"INIT_WORK": "20000000"}})
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
    error = caught.value.response
    assert error["Error"]["Code"] == "SnapStartNotReadyException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 900})


def test_deleting_the_function_ends_its_snapshot_and_environments(
        lambda_client, create_function, iam_role, make_zip) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    name = "snap-deleted"
    lambda_client.create_function(
        FunctionName=name, Runtime=SNAP_RUNTIME, Role=iam_role(), Handler="app.handler",
        SnapStart=SNAP_START, Environment={"Variables": {"INIT_WORK": "1000"}},
        Code={"ZipFile": make_zip(with_rendezvous(SNAP_APP))})
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    body, _, _ = _invoke(lambda_client, name, version)
    started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert body["pid"] in {p.pid for p in started}
    lambda_client.delete_function(FunctionName=name)
    _gone, alive = psutil.wait_procs(started, timeout=30)  # a stop takes milliseconds
    assert alive == []


def test_a_version_published_by_cloudformation_restores(
        lambda_client, harness_client, iam_role, make_zip, tmp_path: Path) -> None:
    s3, cloudformation = harness_client("s3"), harness_client("cloudformation")
    bucket = f"snap-artifacts-{tmp_path.name[-8:]}".lower().replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="app.zip", Body=make_zip(with_rendezvous(SNAP_APP)))
    template = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": SNAP_RUNTIME, "Handler": "app.handler", "Role": iam_role(),
            "Code": {"S3Bucket": bucket, "S3Key": "app.zip"}, "SnapStart": SNAP_START,
            "Environment": {"Variables": {"INIT_WORK": "1000"}}}},
        "Version": {"Type": "AWS::Lambda::Version",
                    "Properties": {"FunctionName": {"Ref": "Fn"}}}}}
    stack = f"snap-{tmp_path.name[-8:]}".replace("_", "-")
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    try:
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 0.5})
        name = cloudformation.describe_stack_resource(
            StackName=stack, LogicalResourceId="Fn")["StackResourceDetail"]["PhysicalResourceId"]
        version = lambda_client.list_versions_by_function(FunctionName=name)["Versions"][-1]
        assert version["Version"] != "$LATEST"
        lambda_client.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier=version["Version"],
            WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
        body, report, _ = _invoke(lambda_client, name, version["Version"])
        assert report.restore_duration_ms is not None and body["seed"] is not None
    finally:
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 0.5})
