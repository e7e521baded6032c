"""ListObjects and ListObjectsV2 answered without moto's generic response serializer. moto still
reads the request, lists the bucket and builds its result; only the last step, the result to
XML, is ours (``render_listing``): moto's serializer walks the botocore shape with an attribute
picker for every member and re-parses each object's date with dateutil, 90 % of a listing's
time here (5.5 ms for 10 keys, 430 ms for 1,000). The bytes are moto's, byte for byte: a result,
request or date this module does not know exactly is left to moto's serializer.

moto's answers are kept where they differ from S3's (moto's to fix, not this renderer's): e.g.
ListObjectsV2 does not echo ``ContinuationToken``, ListObjects does not echo ``Marker`` and its
``NextMarker`` is a token, not the last key.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from moto import settings
from moto.core.responses import ActionResult
from moto.core.serialize import S3Serializer, TimestampSerializer
from moto.s3.responses import S3Response

_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n'
         '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
_TAIL = "</ListBucketResult>"

# The output shapes' body members in botocore's order, which is the order moto's serializer
# writes them in (tests/aws_state/test_s3_listing.py checks them against botocore's model).
_V2 = ("IsTruncated", "Contents", "Name", "Prefix", "Delimiter", "MaxKeys", "CommonPrefixes",
       "EncodingType", "KeyCount", "ContinuationToken", "NextContinuationToken", "StartAfter")
_V1 = ("IsTruncated", "Marker", "NextMarker", "Contents", "Name", "Prefix", "Delimiter",
       "MaxKeys", "CommonPrefixes", "EncodingType")
MEMBERS = {"ListObjectsV2": _V2, "ListObjects": _V1}
OBJECT_MEMBERS = ("Key", "LastModified", "ETag", "ChecksumAlgorithm", "Size", "StorageClass",
                  "Owner")
"""The members of ``Object`` that moto fills (botocore's order; ChecksumType and RestoreStatus,
which moto never sets, send a result to moto's serializer)."""
OWNER_MEMBERS = ("DisplayName", "ID")
_OBJECT_KEYS = frozenset(OBJECT_MEMBERS)
_INTEGERS = frozenset({"MaxKeys", "KeyCount", "Size"})

LIST_PARAMETERS = frozenset({"list-type", "prefix", "delimiter", "max-keys", "encoding-type",
                             "continuation-token", "start-after", "fetch-owner", "marker"})
"""A request's query holding only these is the operation moto's router names (ListObjectsV2 with
``list-type=2``, else ListObjects), so its output shape is the one rendered here."""


class _Unknown(Exception):
    """A value this renderer does not write as moto's serializer would: moto renders it."""


def _element(name: str, text: str) -> str:
    # xmltodict's writer escapes only & < > in text, and closes an empty element short.
    return f"<{name}>{escape(text)}</{name}>" if text else f"<{name}/>"


def _string(name: str, value: Any) -> str:
    return _element(name, str(value))


def _boolean(value: Any) -> str:
    return "true" if value is True or str(value).lower() == "true" else "false"


@functools.lru_cache(maxsize=4096)
def _last_modified(value: Any) -> str:
    """moto's own conversion (dateutil, then S3's zeroed milliseconds), made once per distinct
    date: a bucket's objects share few (they are whole seconds)."""
    converter = TimestampSerializer(S3Serializer.DEFAULT_TIMESTAMP_FORMAT)
    return _element("LastModified", converter._convert_timestamp_to_str(
        value, S3Serializer.DEFAULT_TIMESTAMP_FORMAT))


def _scalar(name: str, value: Any) -> str:
    if name in _INTEGERS:
        return _element(name, str(int(value)))
    if name == "IsTruncated":
        return _element(name, _boolean(value))
    return _string(name, value)


def _structure(name: str, item: Any, members: tuple[str, ...]) -> str:
    """A structure of string members (an Owner, a CommonPrefix)."""
    if not isinstance(item, dict) or not item.keys() <= set(members):
        raise _Unknown(name)
    inner = "".join(_string(member, item[member]) for member in members
                    if item.get(member) is not None)
    if not inner:  # moto's serializer drops a list item with no members, keeps <Owner/>
        raise _Unknown(name)
    return f"<{name}>{inner}</{name}>"


def _object(item: Any) -> str:
    """One of Contents: written member by member, in OBJECT_MEMBERS' order (the hot loop)."""
    if not isinstance(item, dict) or not item.keys() <= _OBJECT_KEYS:
        raise _Unknown("Contents")
    key, modified, etag, checksums, size, storage, owner = map(item.get, OBJECT_MEMBERS)
    if checksums is not None and not isinstance(checksums, list):
        raise _Unknown("ChecksumAlgorithm")
    inner = "".join((
        "" if key is None else _string("Key", key),
        "" if modified is None else _last_modified(modified),
        "" if etag is None else _string("ETag", etag),
        "".join(_string("ChecksumAlgorithm", c) for c in checksums) if checksums else "",
        "" if size is None else _element("Size", str(int(size))),
        "" if storage is None else _string("StorageClass", storage),
        "" if owner is None else _structure("Owner", owner, OWNER_MEMBERS)))
    if not inner:
        raise _Unknown("Contents")
    return f"<Contents>{inner}</Contents>"


def _member(name: str, value: Any) -> str:
    if name == "Contents" or name == "CommonPrefixes":  # flattened lists of structures
        if not isinstance(value, list):
            raise _Unknown(name)
        if name == "Contents":
            return "".join(map(_object, value))
        return "".join(_structure(name, item, ("Prefix",)) for item in value)
    return _scalar(name, value)


def render_listing(operation: str, result: Mapping[str, Any]) -> bytes | None:
    """The XML document moto's S3 serializer makes of ``result`` (the dict moto's
    ``list_objects`` / ``list_objects_v2`` build) for ``operation``; None for a result holding
    anything it does not know."""
    members = MEMBERS.get(operation)
    if members is None or not result.keys() <= set(members):
        return None
    try:
        body = "".join(_member(name, result[name]) for name in members
                       if result.get(name) is not None)
        return f"{_HEAD}{body}{_TAIL}".encode()
    except (_Unknown, TypeError, ValueError, UnicodeError):
        return None  # moto's serializer answers it (or fails) as it always did


def _operation(response: Any) -> str | None:
    """The listing this response is answering, if moto's router would name the same one and
    moto's serializer would write it plainly (not pretty-printed, no response transformers)."""
    if settings.PRETTIFY_RESPONSES or getattr(response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None):
        return None
    data = getattr(response, "data", None)
    action = data.get("Action") if isinstance(data, dict) else None
    query = getattr(getattr(response, "request", None), "args", None)  # werkzeug's, parsed
    if action not in MEMBERS or query is None or not set(query.keys()) <= LIST_PARAMETERS:
        return None
    is_v2 = query.get("list-type") == "2"
    if is_v2 != (action == "ListObjectsV2") or (not is_v2 and "list-type" in query):
        return None
    return str(action)


_lock = threading.Lock()
_installed = False
_MOTO_SERIALIZED = S3Response.serialized
"""moto's own method (a request that read the class attribute before ``uninstall`` still runs)."""
_OWN = "serialized" in S3Response.__dict__  # else S3Response inherits BaseResponse's


def _serialized(self: S3Response, action_result: ActionResult) -> Any:
    """``S3Response.serialized``, with the listings rendered here."""
    result = action_result.result
    operation = _operation(self) if isinstance(result, dict) else None
    body = render_listing(operation, result) if operation and isinstance(result, dict) else None
    if body is None:
        return _MOTO_SERIALIZED(self, action_result)
    # What moto's serializer and ``serialized`` put in the headers, in their order.
    headers: dict[str, Any] = {"Content-Type": S3Serializer.CONTENT_TYPE}
    headers.update(self.response_headers)
    headers.update({"status": 200})
    return 200, headers, body


def install() -> None:
    """Render ListObjects and ListObjectsV2 here (idempotent, process-wide, as moto's state)."""
    global _installed
    with _lock:
        if not _installed:
            S3Response.serialized = _serialized  # type: ignore[method-assign, assignment]
            _installed = True


def uninstall() -> None:
    """moto's serializer for every answer again (a benchmark's baseline, a test's reference)."""
    global _installed
    with _lock:
        if _installed:
            if _OWN:
                S3Response.serialized = _MOTO_SERIALIZED  # type: ignore[method-assign]
            else:
                del S3Response.serialized
            _installed = False
