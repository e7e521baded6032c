"""Recognising S3 calls on the wire and answering with S3's own error documents (pure)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from harness.faults.model import S3_ERRORS
from harness.http import HttpResponse

_SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
_VHOST_RE = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3[.-]")


@dataclass(frozen=True)
class S3Call:
    operation: str
    bucket: str | None
    key: str | None


def signed_service(authorization: str) -> str | None:
    """The service a SigV4 request was signed for (``s3``, ``lambda``, ...)."""
    match = _SCOPE_RE.search(authorization or "")
    return match.group(1) if match else None


def _operation(method: str, has_bucket: bool, has_key: bool, query: dict[str, list[str]]) -> str:
    if not has_bucket:
        return "ListBuckets"
    if not has_key:
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else (
                "GetBucketLocation" if "location" in query else "ListObjects")
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket",
                "POST": "DeleteObjects"}.get(method, method)
    if "uploads" in query or "uploadId" in query:
        return {"POST": "CreateMultipartUpload" if "uploads" in query
                else "CompleteMultipartUpload", "PUT": "UploadPart"}.get(method, method)
    return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject",
            "DELETE": "DeleteObject"}.get(method, method)


def classify(method: str, path: str, query_string: str, host: str) -> S3Call:
    """The operation, bucket and key of an S3 request, path-style or virtual-hosted."""
    query = parse_qs(query_string, keep_blank_values=True)
    vhost = _VHOST_RE.match(host.split(":", 1)[0])
    parts = path.lstrip("/").split("/", 1) if path.strip("/") else []
    if vhost:
        bucket, key = vhost.group("bucket"), path.lstrip("/") or None
    else:
        bucket = parts[0] if parts else None
        key = parts[1] if len(parts) > 1 and parts[1] else None
    return S3Call(_operation(method, bucket is not None, key is not None, query), bucket, key)


def error_response(code: str, call: S3Call) -> HttpResponse:
    """S3's XML error document for ``code``, with its status."""
    status, message = S3_ERRORS[code]
    request_id = uuid.uuid4().hex[:16].upper()
    extra = ""
    if call.key is not None and code == "NoSuchKey":
        extra = f"<Key>{escape(call.key)}</Key>"
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>harness-fault</HostId></Error>")
    return HttpResponse(status, (("Content-Type", "application/xml"),
                                 ("x-amz-request-id", request_id)), body.encode())
