"""What the fast paths that answer without moto's server app (``s3_objects``, ``sqs_calls``)
need to answer as that app would: whether moto runs as configured by default, the caller's
account, moto's request ids and the header flask-cors adds."""

from __future__ import annotations

import math
import os
import string

from moto import settings as moto_settings
from moto.core.responses import BaseResponse
from moto.iam.models import get_account_id_from
from moto.moto_api import recorder
from moto.moto_api._internal import mock_random

CORS_HEADERS: tuple[tuple[str, str], ...] = (
    () if moto_settings.DISABLE_GLOBAL_CORS else (("Access-Control-Allow-Origin", "*"),))
"""The header flask-cors adds to every answer of moto's server (unless
MOTO_DISABLE_GLOBAL_CORS is set)."""


def moto_plain() -> bool:
    """moto's server serves this process as configured by default: no recorder, no
    MOTO_ACCOUNT_ID override (moto reads it per request), no moto signature checks."""
    return (not recorder._user_enabled and "MOTO_ACCOUNT_ID" not in os.environ
            and math.isinf(moto_settings.INITIAL_NO_AUTH_ACTION_COUNT))


def caller_account(authorization: str, named_account: str | None) -> tuple[str, str]:
    """(account, access key) as moto's ``BaseResponse`` reads them: the x-moto-account-id
    header's account, else the access key's."""
    match = BaseResponse.access_key_regex.search(authorization)
    access_key = match.group(1) if match else "AKIAEXAMPLE"
    return named_account or get_account_id_from(access_key), access_key


_ID_LETTERS = (string.ascii_letters + string.digits).encode()
_ID_TABLE = bytes(_ID_LETTERS[i % len(_ID_LETTERS)] for i in range(256))


def request_id() -> str:
    """An x-amzn-requestid shaped as moto's ``gen_amzn_requestid_long`` makes it (52 letters
    and digits from moto's seedable random), drawn as 52 bytes at once: moto draws each letter
    on its own, 40 µs a request."""
    return mock_random.randbytes(52).translate(_ID_TABLE).decode()
