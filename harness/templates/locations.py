"""Where a ``TemplateURL`` points in the emulator's own S3: every URL form S3 answers to."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlparse

from harness.templates.errors import TemplateError

# Virtual-hosted: <bucket>.s3[.-<region>].amazonaws.com, <bucket>.s3.localhost.localstack.cloud.
_VIRTUAL = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*)\.s3(?:[.\-][a-z0-9\-]+)?"
                      r"\.(?:amazonaws\.com|localhost\.localstack\.cloud)$")
_PATH_STYLE_HOSTS = re.compile(r"^(?:s3(?:[.\-][a-z0-9\-]+)?\.amazonaws\.com|"
                               r"(?:s3\.)?localhost(?:\.localstack\.cloud)?)$")


def _path_style(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_PATH_STYLE_HOSTS.match(host))


def s3_location(url: str) -> tuple[str, str]:
    """(bucket, key) of a TemplateURL: s3://, path-style or virtual-hosted, on AWS or here."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    path = unquote(parsed.path).lstrip("/")
    if parsed.scheme == "s3":
        bucket, key = host, path
    elif parsed.scheme in ("http", "https") and (match := _VIRTUAL.match(host)):
        bucket, key = match.group("bucket"), path
    elif parsed.scheme in ("http", "https") and _path_style(host):
        bucket, _, key = path.partition("/")
    else:
        bucket, key = "", ""
    if not bucket or not key:
        raise TemplateError(f"TemplateURL must be an Amazon S3 URL of an object: {url!r}")
    return bucket, key
