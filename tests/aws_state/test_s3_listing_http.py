"""ListObjects and ListObjectsV2 through plain boto3 against the session emulator: the answers
rendered by harness.aws_state.s3_listing are moto's own, byte for byte (moto's serializer is
switched back in for the reference answer of every request), for many parameter combinations,
odd keys, paging past 1,000 keys and a versioned bucket with deleted keys."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.handlers import set_list_objects_encoding_type_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.aws_state import s3_listing

ODD_KEYS = ["a/b", "a/b/c", "a//b", "a/", "b", "dir/one", "dir/two/three", "x&y<z>'\"",
            "sp ace", "plus+sign", "per%cent", "ü/ö", "tab\there", "~tilde", "a%2Fb", "=eq?q"]
VERSIONED_KEYS = ["keep/1", "keep/2", "gone/1", "half/1", "half/2"]
MANY = 1050
RANDOM_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")
UNSTABLE_HEADERS = {"x-amzn-requestid", "x-amz-request-id", "date"}


@pytest.fixture(scope="module")
def embedded(harness_target: Any) -> None:
    """moto's serializer can be switched back in only where it runs: in this process."""
    if harness_target.emulator is None:
        pytest.skip("compares with moto's serializer in the embedded emulator's process")


class Lister:
    """A boto3 S3 client that keeps the raw answer (status, headers, body) of each listing."""

    def __init__(self, make: Callable[..., Any], url_encoding: bool) -> None:
        self.s3 = make("s3", config=Config(retries={"total_max_attempts": 1},
                                           parameter_validation=False,
                                           s3={"addressing_style": "path"}))
        if not url_encoding:  # boto3 asks for EncodingType=url unless told otherwise
            for operation in ("ListObjects", "ListObjectsV2"):
                self.s3.meta.events.unregister(f"before-parameter-build.s3.{operation}",
                                               set_list_objects_encoding_type_url)
        self.raw: dict[str, Any] = {}
        self.s3.meta.events.register("before-parse.s3.*", self._keep)

    def _keep(self, response_dict: dict[str, Any], **_: Any) -> None:
        self.raw = response_dict

    def list(self, operation: str, **params: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """boto3's parsed answer, and the raw one with the per-request ids taken out."""
        method = {"ListObjects": self.s3.list_objects, "ListObjectsV2": self.s3.list_objects_v2}
        try:
            parsed = method[operation](**params)
        except ClientError as error:
            parsed = error.response
        headers = sorted((k.lower(), v) for k, v in self.raw["headers"].items()
                         if k.lower() not in UNSTABLE_HEADERS)
        return parsed, (self.raw["status_code"], headers, RANDOM_ID.sub(b"", self.raw["body"]))


@contextlib.contextmanager
def moto_serializer() -> Iterator[None]:
    s3_listing.uninstall()
    try:
        yield
    finally:
        s3_listing.install()


@pytest.fixture(scope="module")
def rendered() -> Iterator[list[bool]]:
    """One entry per listing the renderer was asked for: True when it wrote the answer."""
    calls: list[bool] = []
    render = s3_listing.render_listing

    def spy(operation: str, result: Any) -> bytes | None:
        body = render(operation, result)
        calls.append(body is not None)
        return body

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(s3_listing, "render_listing", spy)
        yield calls


def both(lister: Lister, rendered: list[bool], operation: str,
         **params: Any) -> dict[str, Any]:
    """The request answered by the renderer and by moto's serializer: the same bytes."""
    s3_listing.install()
    before = len(rendered)
    parsed, fast = lister.list(operation, **params)
    ours = rendered[before:]
    with moto_serializer():
        _, reference = lister.list(operation, **params)
    assert fast == reference, (operation, params)
    if fast[0] == 200:  # a listing answered: the renderer wrote it, moto's serializer did not
        assert ours == [True], (operation, params)
    return parsed


def fill(s3: Any, bucket: str, keys: list[str], **put: Any) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode(), **put)


@pytest.fixture(scope="module")
def plain(embedded: None, harness_client: Callable[..., Any]) -> Lister:
    return Lister(harness_client, url_encoding=False)


@pytest.fixture(scope="module")
def url(embedded: None, harness_client: Callable[..., Any]) -> Lister:
    return Lister(harness_client, url_encoding=True)


@pytest.fixture(scope="module")
def buckets(plain: Lister, harness_client: Callable[..., Any]) -> dict[str, list[str]]:
    """The buckets listed here, and the keys each should list (made once for the module)."""
    s3 = plain.s3
    fill(s3, "s3-listing-odd", ODD_KEYS)
    s3.put_object(Bucket="s3-listing-odd", Key="ia", Body=b"1", StorageClass="STANDARD_IA")
    s3.put_object(Bucket="s3-listing-odd", Key="sha", Body=b"1", ChecksumAlgorithm="SHA256")
    unsummed = harness_client("s3", config=Config(request_checksum_calculation="when_required"))
    unsummed.put_object(Bucket="s3-listing-odd", Key="no-checksum", Body=b"1")
    fill(s3, "s3-listing-many", [f"k/{i:05d}" for i in range(MANY)])
    fill(s3, "s3-listing-versioned", [])
    s3.put_bucket_versioning(Bucket="s3-listing-versioned",
                             VersioningConfiguration={"Status": "Enabled"})
    fill(s3, "s3-listing-versioned", VERSIONED_KEYS + ["keep/1"])  # keep/1 twice: 2 versions
    for key in ("gone/1", "half/2"):
        s3.delete_object(Bucket="s3-listing-versioned", Key=key)
    return {"s3-listing-odd": sorted(ODD_KEYS + ["ia", "sha", "no-checksum"]),
            "s3-listing-many": [f"k/{i:05d}" for i in range(MANY)],
            "s3-listing-versioned": ["half/1", "keep/1", "keep/2"]}


requests = st.fixed_dictionaries(
    {"Bucket": st.sampled_from(["s3-listing-odd", "s3-listing-versioned", "s3-listing-many"])},
    optional={"Prefix": st.sampled_from(["", "a", "a/", "dir/", "k/0104", "ü", "x&", "zzz"]),
              "Delimiter": st.sampled_from(["/", "b", "%", "/t"]),
              "MaxKeys": st.sampled_from([0, 1, 2, 7, 1000, 1001]),
              "EncodingType": st.just("url")})
v2_only = st.fixed_dictionaries({}, optional={
    "StartAfter": st.sampled_from(["", "a/b", "dir/", "k/00999", "m"]),
    "FetchOwner": st.booleans()})
v1_only = st.fixed_dictionaries({}, optional={"Marker": st.sampled_from(["", "a/b", "k/01000"])})


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests, v2_only, v1_only, st.booleans())
def test_any_listing_is_moto_s_answer_byte_for_byte(
        plain: Lister, url: Lister, rendered: list[bool], buckets: dict[str, list[str]],
        params: dict[str, Any], v2: dict[str, Any], v1: dict[str, Any],
        next_page: bool) -> None:
    lister = url if params.pop("EncodingType", None) else plain
    if v1:  # ListObjects, then (maybe) the page after, as boto3's paginator asks for it
        first = both(lister, rendered, "ListObjects", **params, **v1)
        marker = first.get("NextMarker") or (first.get("Contents") or [{}])[-1].get("Key")
        if next_page and first.get("IsTruncated") and marker:
            both(lister, rendered, "ListObjects", **params, Marker=marker)
        return
    first = both(lister, rendered, "ListObjectsV2", **params, **v2)
    if next_page and first.get("NextContinuationToken"):
        both(lister, rendered, "ListObjectsV2", **params,
             ContinuationToken=first["NextContinuationToken"])


def pages(lister: Lister, rendered: list[bool], **params: Any) -> list[dict[str, Any]]:
    """Every page of a ListObjectsV2, following the continuation tokens."""
    found = [both(lister, rendered, "ListObjectsV2", **params)]
    while found[-1].get("NextContinuationToken"):
        found.append(both(lister, rendered, "ListObjectsV2", **params,
                          ContinuationToken=found[-1]["NextContinuationToken"]))
    return found


def test_delimiter_pages_list_each_key_and_folder_once(plain: Lister, rendered: list[bool],
                                                        buckets: dict[str, list[str]]) -> None:
    found = pages(plain, rendered, Bucket="s3-listing-odd", Delimiter="/", MaxKeys=2)
    keys = [o["Key"] for page in found for o in page.get("Contents", [])]
    folders = [p["Prefix"] for page in found for p in page.get("CommonPrefixes", [])]
    assert keys == [k for k in buckets["s3-listing-odd"] if "/" not in k]
    assert folders == ["a/", "dir/", "ü/"]
    assert all(page["KeyCount"] <= 2 for page in found) and len(found) > 5


def test_odd_keys_come_back_whole_with_and_without_url_encoding(
        plain: Lister, url: Lister, rendered: list[bool], buckets: dict[str, list[str]]) -> None:
    for lister in (plain, url):  # boto3 decodes the url-encoded keys it asked for
        listed = both(lister, rendered, "ListObjectsV2", Bucket="s3-listing-odd")
        assert [o["Key"] for o in listed["Contents"]] == buckets["s3-listing-odd"]
    assert b"<Key>x&amp;y&lt;z&gt;'\"</Key>" in plain.list(
        "ListObjectsV2", Bucket="s3-listing-odd", Prefix="x")[1][2]
    assert b"<Key>x%26y%3Cz%3E%27%22</Key>" in url.list(
        "ListObjectsV2", Bucket="s3-listing-odd", Prefix="x")[1][2]
    by_key = {o["Key"]: o for o in listed["Contents"]}
    assert by_key["ia"]["StorageClass"] == "STANDARD_IA"
    assert by_key["sha"]["ChecksumAlgorithm"] == ["SHA256"]
    assert "ChecksumAlgorithm" not in by_key["no-checksum"]
    assert by_key["b"]["Size"] == 1 and by_key["b"]["ETag"].startswith('"')


def test_zero_max_keys_lists_nothing_and_is_not_truncated(plain: Lister, rendered: list[bool],
                                                          buckets: dict[str, list[str]]) -> None:
    for operation in ("ListObjectsV2", "ListObjects"):
        listed = both(plain, rendered, operation, Bucket="s3-listing-odd", MaxKeys=0)
        assert listed["MaxKeys"] == 0 and listed["IsTruncated"] is False
        assert "Contents" not in listed


def test_more_than_1000_keys_come_in_pages(url: Lister, rendered: list[bool],
                                           buckets: dict[str, list[str]]) -> None:
    found = pages(url, rendered, Bucket="s3-listing-many")
    assert [page["KeyCount"] for page in found] == [1000, MANY - 1000]
    assert [o["Key"] for page in found for o in page["Contents"]] == buckets["s3-listing-many"]
    first = both(url, rendered, "ListObjects", Bucket="s3-listing-many")
    assert first["IsTruncated"] and len(first["Contents"]) == 1000
    rest = both(url, rendered, "ListObjects", Bucket="s3-listing-many",
                Marker=first["Contents"][-1]["Key"])
    assert [o["Key"] for o in rest["Contents"]] == buckets["s3-listing-many"][1000:]


def test_a_versioned_bucket_lists_the_latest_version_and_hides_deleted_keys(
        plain: Lister, rendered: list[bool], buckets: dict[str, list[str]]) -> None:
    listed = both(plain, rendered, "ListObjectsV2", Bucket="s3-listing-versioned",
                  FetchOwner=True)
    assert [o["Key"] for o in listed["Contents"]] == buckets["s3-listing-versioned"]
    assert all(o["Owner"]["DisplayName"] for o in listed["Contents"])
    old = both(plain, rendered, "ListObjects", Bucket="s3-listing-versioned", Prefix="half/")
    assert [o["Key"] for o in old["Contents"]] == ["half/1"]


@pytest.mark.parametrize("operation, params, code", [
    ("ListObjectsV2", {"Bucket": "s3-listing-none"}, "NoSuchBucket"),
    ("ListObjects", {"Bucket": "s3-listing-none"}, "NoSuchBucket"),
    ("ListObjectsV2", {"Bucket": "s3-listing-odd", "ContinuationToken": ""}, "InvalidArgument"),
])
def test_errors_are_moto_s(plain: Lister, rendered: list[bool], buckets: dict[str, list[str]],
                           operation: str, params: dict[str, Any], code: str) -> None:
    answer = both(plain, rendered, operation, **params)
    assert answer["Error"]["Code"] == code
