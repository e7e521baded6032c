"""Fixtures for these tests live in tests/conftest.py (shared with other test packages)."""

from tests.conftest import ROLE, TRIVIAL  # noqa: F401  (re-exported for older imports)
