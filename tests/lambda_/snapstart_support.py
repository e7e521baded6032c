"""SnapStart helpers shared by the tests that meter and count restores."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.package import zip_files
from tests.emulator.support import ROLE
from tests.lambda_.rendezvous import with_rendezvous
from tests.lambda_.test_snapstart import SNAP_APP, SNAP_RUNTIME, SNAP_START, _invoke

invoke = _invoke
"""(body, REPORT figures, log tail) of one invocation with LogType=Tail."""


def published_snap_function(emu: Any, name: str, memory_mb: int) -> str:
    """A SnapStart function with a light init on ``emu`` (an OwnEmulator), published; its
    version once Active."""
    lam, iam = emu.client("lambda"), emu.client("iam")
    try:
        iam.create_role(RoleName=ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument="{}")
    except iam.exceptions.EntityAlreadyExistsException:
        pass  # moto's state is the process's: another test made it
    lam.create_function(FunctionName=name, Runtime=SNAP_RUNTIME, Role=ROLE,
                        Handler="app.handler", SnapStart=SNAP_START, MemorySize=memory_mb,
                        Timeout=90, Environment={"Variables": {"INIT_WORK": "1000"}},
                        Code={"ZipFile": zip_files(with_rendezvous(SNAP_APP))})
    version = str(lam.publish_version(FunctionName=name)["Version"])
    lam.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    return version


def restore_in_new_environments(lam: Any, name: str, version: str, n: int,
                                rendezvous: Path) -> list[Any]:
    """``n`` invocations held in flight together, so each runs in an environment of its own
    (each restores from the snapshot)."""
    rendezvous.mkdir()
    event = {"wait_for": str(rendezvous), "count": n}
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: _invoke(lam, name, version, event), range(n)))
