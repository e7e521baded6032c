"""The stand-in image's runtime bootstrap: Lambda's import path, then the runtime client.

AWS's Python base images start the runtime client from /var/runtime/bootstrap.py, which puts the
task root first on sys.path and, unless the function sets PYTHONPATH itself, the layers'
/opt/python/lib/pythonX.Y/site-packages and /opt/python after it (their .pth files are read, as
for site directories). This does the same, so a layer mounted at /opt imports as it does on Lambda.
"""

import os
import runpy
import site
import sys


def lambda_sys_path() -> list[str]:
    """The directories Lambda puts before the interpreter's own path, in order."""
    paths = [os.environ.get("LAMBDA_TASK_ROOT") or "/var/task"]
    if "PYTHONPATH" not in os.environ:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        paths += [f"/opt/python/lib/python{version}/site-packages", "/opt/python"]
    return paths


def main() -> None:
    paths = lambda_sys_path()
    sys.path[:0] = paths
    for path in paths:
        site.addsitedir(path)  # already on sys.path: only its .pth files are read
    sys.argv = ["awslambdaric", os.environ["_HANDLER"]]
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
