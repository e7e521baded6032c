"""A Locust worker is `harness load --worker`: the CLI must import neither ssl nor moto before
Locust patches the standard library with gevent (ssl imported first makes every TLS context
recurse forever, and workers never connect). Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = ("import sys, {module}; "
         "print(','.join(sorted(m for m in ('ssl', 'moto', 'gevent') if m in sys.modules)))")


@pytest.mark.parametrize("module", ["harness.cli.main", "harness.load.engine",
                                   "harness.load.generator"])
def test_the_load_path_imports_neither_ssl_nor_moto(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(module=module)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"{module} loaded {done.stdout.strip()} at import"
