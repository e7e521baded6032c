"""Request ids: version-4 UUIDs of the RFC 4122 variant, as Lambda's, made by hand for speed."""

from __future__ import annotations

import uuid

from harness.lambda_.service import fast_uuid


def test_request_ids_are_version_4_uuids_in_canonical_form() -> None:
    seen = set()
    for _ in range(5000):
        text = fast_uuid()
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower-case hex, dashes at 8-4-4-4-12
        seen.add(text)
    assert len(seen) == 5000
