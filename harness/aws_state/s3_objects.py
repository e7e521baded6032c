"""S3 GetObject and HeadObject answered from moto's S3 state, without moto's Flask app: the same
status, headers and body moto's own path writes, for the plain reads only. Every request this
module is not sure about (a query, a condition, a range, a bucket policy moto would read, a
missing key...) gets None, and moto answers it as before, so every error stays moto's.

The ML function reads its features from S3 on each prediction; through moto's server that read
cost the emulator ~2.2 ms of CPU, most of it Flask, request parsing and header building.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.utils import extract_region_from_aws_authorization
from moto.iam.models import mark_account_as_visited
from moto.s3.models import FakeKey, s3_backends
from moto.s3.responses import DEFAULT_REGION_NAME
from moto.s3.utils import ARCHIVE_STORAGE_CLASSES, parse_region_from_url
from moto.utilities.utils import get_partition

from harness.aws_state import iam_auth
from harness.aws_state.backends import existing
from harness.aws_state.moto_server import CORS_HEADERS, caller_account, moto_plain, request_id

_SIGNED_FOR_S3 = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/s3/aws4_request")
_IPV4_HOST = re.compile(r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)(\.|$)){4}")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{0,254}$")
# Request headers that change moto's answer (conditions, ranges, SSE-C, CORS...): moto answers.
_CHANGING = ("HTTP_RANGE", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
             "HTTP_IF_UNMODIFIED_SINCE", "HTTP_ORIGIN", "HTTP_X_AMZ_REQUEST_PAYER",
             "HTTP_X_AMZ_EXPECTED_BUCKET_OWNER", "HTTP_ACTION", "HTTP_X_AMZ_CONTENT_SHA256_TRAILER",
             "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM",
             "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY",
             "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5")
_X_ID = {"GET": "GetObject", "HEAD": "HeadObject"}


@dataclass(frozen=True)
class ObjectRead:
    """One GetObject or HeadObject, as moto would read it from the request."""

    method: str
    """GET or HEAD."""
    bucket: str
    key: str
    version_id: str | None
    authorization: str
    account: str | None
    """x-moto-account-id, when the caller names its account."""
    checksum_mode: bool
    """x-amz-checksum-mode: ENABLED."""
    region: str | None
    """From the Host, as moto's S3 reads it (None: from the signature)."""
    source_ip: str
    user_agent: str | None
    security_token: str | None


@dataclass(frozen=True)
class ObjectView:
    """What moto's key shows in an answer."""

    version_id: str
    described: tuple[tuple[str, str], ...]
    """moto's ``FakeKey.response_dict``: ETag, last-modified, content-length, SSE, tagging..."""
    metadata: tuple[tuple[str, str], ...]
    """Content-Type and the other headers given at put, x-amz-meta-*."""
    checksum: tuple[str, str, str | None, int | None] | None
    """(algorithm, value, type, parts) when the object has a checksum."""
    body: bytes


def answer(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """(status line, headers, body) of a plain GetObject or HeadObject, exactly as moto's server
    answers it; None when moto must answer."""
    read = object_read(environ)
    if read is None or not moto_plain():
        return None
    view = _view(read)
    if view is None:
        return None
    answer_id = request_id()
    if read.method == "HEAD":
        return "200 OK", render_head(view, read.checksum_mode, answer_id), b""
    return "200 OK", render_get(view, read.checksum_mode, answer_id), view.body


def object_read(environ: dict[str, Any]) -> ObjectRead | None:
    """The read a request is, when it is plainly one that moto's S3 serves path-style (pure)."""
    method = environ.get("REQUEST_METHOD")
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if method not in _X_ID or not _SIGNED_FOR_S3.search(authorization):
        return None
    if any(name in environ for name in _CHANGING):
        return None
    checksum = environ.get("HTTP_X_AMZ_CHECKSUM_MODE")
    if checksum not in (None, "ENABLED"):
        return None
    version_id = _version_id(method, environ.get("QUERY_STRING", ""))
    host = environ.get("HTTP_HOST", "")
    raw_uri = environ.get("RAW_URI", "")
    located = _path_style(host, raw_uri)
    if version_id is None or located is None:
        return None
    bucket, key = located
    return ObjectRead(method, bucket, key, version_id or None, authorization,
                      environ.get("HTTP_X_MOTO_ACCOUNT_ID"), checksum == "ENABLED",
                      parse_region_from_url(f"http://{host}{raw_uri}", use_default_region=False),
                      environ.get("REMOTE_ADDR") or "127.0.0.1", environ.get("HTTP_USER_AGENT"),
                      environ.get("HTTP_X_AMZ_SECURITY_TOKEN"))


def _version_id(method: str, query: str) -> str | None:
    """The versionId asked for ("" for none); None for any other query (moto answers it)."""
    if not query:
        return ""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        return None
    version = ""
    for name, value in pairs:
        if name == "versionId" and value:
            version = value
        elif not (name == "x-id" and value == _X_ID[method]):
            return None
    return version


def _path_style(host: str, raw_uri: str) -> tuple[str, str] | None:
    """(bucket, key) of ``/bucket/key`` on a host moto reads path-style: an IPv4 address,
    localhost or a name without a dot (as ``S3Response.subdomain_based_buckets`` decides)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not (name.startswith("localhost") or _IPV4_HOST.match(name) or
            (name and "." not in name and ":" not in name)) or ".s3-accesspoint." in name:
        return None
    path = raw_uri.split("?", 1)[0]
    if not path.startswith("/") or "//" in path or not path.isascii():
        return None
    bucket, _, raw_key = path[1:].partition("/")
    if not _BUCKET.match(bucket) or bucket in ("moto-api", "latest") or not raw_key:
        return None
    key = unquote(path).split("/", 2)[2]  # as moto: the decoded path, past the bucket
    if not key or any(ord(c) < 0x20 or c == "\x7f" for c in key):
        return None
    return bucket, key


def _view(read: ObjectRead) -> ObjectView | None:
    """The key moto would answer with, when nothing but the key decides the answer."""
    account, access_key = caller_account(read.authorization, read.account)
    region = read.region or _signed_region(read.authorization)  # as S3Response.setup_class
    partition = get_partition(region)
    backend = existing(s3_backends, account, partition)
    bucket = backend.buckets.get(read.bucket)  # another account's bucket: moto decides
    if bucket is None or bucket.logging or (read.version_id and not bucket.is_versioned):
        return None
    resource = f"arn:{partition}:s3:::{read.bucket}/{read.key}"
    action = "s3:GetObject"  # HeadObject is authorized as GetObject
    checked = iam_auth.allows_call(read.authorization, action, resource, account,
                                   read.source_ip, read.user_agent, read.security_token)
    if checked is False or (checked is None and bucket.policy is not None):
        return None  # denied, or moto's own bucket policy check: moto answers
    key = _peek(bucket, read.key, read.version_id)
    if not isinstance(key, FakeKey) or key.storage_class in ARCHIVE_STORAGE_CLASSES \
            or "content-type" not in key.metadata \
            or (key.checksum_algorithm and not key.checksum_value):
        return None
    # moto looks the latest version up, then the one asked for: each look-up ticks the key's
    # state (a restore's progress), so the same two are made here.
    backend.get_object(read.bucket, read.key)
    backend.get_object(read.bucket, read.key, version_id=read.version_id)
    if checked is None:
        ActionAuthenticatorMixin.request_count += 1  # as moto's own check counts
    mark_account_as_visited(account_id=account, access_key=access_key, service="s3",
                            region=region)
    checksum = ((key.checksum_algorithm, key.checksum_value, key.checksum_type,
                 key.checksum_parts) if key.checksum_algorithm and key.checksum_value else None)
    return ObjectView(str(key.version_id), tuple(key.response_dict.items()),
                      tuple(key.metadata.items()), checksum,
                      key.value if read.method == "GET" else b"")


def _peek(bucket: Any, name: str, version_id: str | None) -> Any:
    """The key (or delete marker) ``S3Backend.get_object`` would find, without ticking it."""
    if version_id is None:
        return bucket.keys.get(name)
    return next((found for found in bucket.keys.getlist(name, default=[])
                 if str(found.version_id) == version_id), None)


def _signed_region(authorization: str) -> str:
    return extract_region_from_aws_authorization(authorization) or DEFAULT_REGION_NAME


def render_get(view: ObjectView, checksum_mode: bool,
               request_id: str) -> list[tuple[str, str]]:
    """GetObject's headers, in the order moto's ``S3Response.get_object`` builds them (pure)."""
    headers: dict[str, str] = {}
    if view.version_id != "null":
        headers["x-amz-version-id"] = view.version_id
    headers.update(view.described)
    if checksum_mode and view.checksum is not None:
        algorithm, value, kind, parts = view.checksum
        headers[f"x-amz-checksum-{algorithm.lower()}"] = (
            f"{value}-{parts}" if kind == "COMPOSITE" else value)
        if kind:
            headers["x-amz-checksum-type"] = kind
    headers.update(view.metadata)
    headers["Accept-Ranges"] = "bytes"
    headers["x-amzn-requestid"] = request_id
    return _framed(headers, str(len(view.body)))


def render_head(view: ObjectView, checksum_mode: bool,
                request_id: str) -> list[tuple[str, str]]:
    """HeadObject's headers, in the order moto's ``S3Response.head_object`` builds them; the
    Content-Length is the object's (pure)."""
    headers: dict[str, str] = dict(view.metadata)
    headers.update(view.described)
    headers["Accept-Ranges"] = "bytes"
    if checksum_mode and view.checksum is not None:
        headers[f"x-amz-checksum-{view.checksum[0].lower()}"] = view.checksum[1]
    headers["x-amzn-requestid"] = request_id
    return _framed(headers, headers.get("content-length", "0"))


def _framed(headers: dict[str, str], length: str) -> list[tuple[str, str]]:
    """As Flask sends them: moto's headers, flask-cors's, then Content-Length."""
    framed = [(name, value) for name, value in headers.items()
              if name.lower() != "content-length"]
    framed.extend(CORS_HEADERS)
    framed.append(("Content-Length", length))
    return framed
