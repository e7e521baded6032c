"""The upload-triggered mode: features put under the input prefix, predictions written under the
output prefix (the seed's "uploading triggers Lambda" pattern); pure, no I/O.

Only keys under the input prefix are read and only keys under the output prefix are written, and
the two must not overlap: a function that wrote where it is triggered would trigger itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class Upload:
    """One object an S3 notification names (its key decoded as S3 encodes it: '+' for space)."""

    bucket: str
    key: str
    event_name: str


def is_s3_event(event: Any) -> bool:
    """Whether ``event`` is an S3 notification (every record from ``aws:s3``)."""
    if not isinstance(event, Mapping):
        return False
    records = event.get("Records")
    return (isinstance(records, list) and bool(records)
            and all(isinstance(r, Mapping) and r.get("eventSource") == "aws:s3" for r in records))


def uploads(event: Mapping[str, Any]) -> list[Upload]:
    """The objects created, in record order; removals and other events are left out."""
    found = []
    for record in event["Records"]:
        name = str(record.get("eventName", ""))
        if not name.startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        found.append(Upload(bucket=str(s3.get("bucket", {}).get("name", "")),
                            key=unquote_plus(str(s3.get("object", {}).get("key", ""))),
                            event_name=name))
    return found


def output_key(key: str, input_prefix: str, output_prefix: str) -> str | None:
    """Where the predictions for ``key`` go: ``features/a/b.npy`` -> ``predictions/a/b.npy.json``;
    None for a key outside the input prefix (never read: it was not meant for this function)."""
    if not key.startswith(input_prefix) or key.startswith(output_prefix):
        return None
    return output_prefix + key[len(input_prefix):] + ".json"


def check_prefixes(input_prefix: str, output_prefix: str) -> None:
    """Refuse prefixes where a written prediction could trigger the function again."""
    if not output_prefix:
        raise ValueError("OUTPUT_PREFIX must not be empty: predictions would land under every key")
    if output_prefix.startswith(input_prefix) or input_prefix.startswith(output_prefix):
        raise ValueError(f"INPUT_PREFIX {input_prefix!r} and OUTPUT_PREFIX {output_prefix!r} "
                         "overlap: a prediction written would trigger the function again")
