"""Scenario tests: fixture files live in fixtures/ and are run on purpose, never collected.

(pytester is enabled in test_plugin.py: pytest only reads ``pytest_plugins`` from the top-level
conftest and from test modules.)
"""

from __future__ import annotations

collect_ignore_glob = ["fixtures/*"]
