"""The listing renderer (harness.aws_state.s3_listing.render_listing) against moto's own S3
serializer, in-process: for any result moto's ListObjects / ListObjectsV2 can build, the same
bytes; for anything else, no answer (moto's serializer then writes it)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.serialize import S3Serializer, XFormedAttributePicker
from moto.core.utils import get_service_model, iso_8601_datetime_without_milliseconds_s3
from moto.s3.responses import S3Response

from harness.aws_state import s3_listing

OWNER = {"ID": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
         "DisplayName": "webfile"}


def moto_body(operation: str, result: dict[str, Any]) -> bytes:
    """What moto's ``serialized`` makes of ``result`` (ActionResult.execute_result's steps)."""
    model = get_service_model("s3").operation_model(operation)
    picker = XFormedAttributePicker(
        response_transformers=S3Response.RESPONSE_KEY_PATH_TO_TRANSFORMER)
    serializer = S3Serializer(operation_model=model, pretty_print=False, value_picker=picker)
    body = serializer.serialize(result)["body"]
    return body.encode("utf-8") if isinstance(body, str) else body


# Text as keys, prefixes and tokens may hold it: XML's specials, quotes, spaces, any plane.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
dates = st.datetimes(min_value=datetime.datetime(1970, 1, 1),
                     max_value=datetime.datetime(2100, 1, 1))
stamps = st.one_of(dates.map(iso_8601_datetime_without_milliseconds_s3),
                   dates.map(lambda d: d.isoformat(timespec="milliseconds") + "Z"))
objects = st.fixed_dictionaries(
    {"Key": texts},
    optional={"LastModified": stamps, "ETag": texts,
              "Size": st.integers(0, 5 * 1024**4),
              "StorageClass": st.sampled_from(["STANDARD", "STANDARD_IA", "GLACIER"]),
              "ChecksumAlgorithm": st.lists(st.sampled_from(["CRC32", "SHA256", ""]),
                                            max_size=2),
              "Owner": st.just(OWNER)})
common = {"Name": texts, "MaxKeys": st.integers(0, 1000), "IsTruncated": st.booleans(),
          "Contents": st.lists(objects, max_size=4)}
optional = {"Prefix": texts, "Delimiter": texts, "EncodingType": st.just("url"),
            "CommonPrefixes": st.lists(st.fixed_dictionaries({"Prefix": texts}), max_size=3)}
results = st.one_of(
    st.tuples(st.just("ListObjectsV2"), st.fixed_dictionaries(
        {**common, "KeyCount": st.integers(0, 1000)},
        optional={**optional, "NextContinuationToken": texts, "StartAfter": texts,
                  "ContinuationToken": texts})),
    st.tuples(st.just("ListObjects"), st.fixed_dictionaries(
        common, optional={**optional, "NextMarker": texts, "Marker": texts})))


@settings(max_examples=400, deadline=None)
@given(results)
def test_any_listing_result_is_written_as_moto_writes_it(case: tuple[str, dict[str, Any]]) -> None:
    operation, result = case
    assert s3_listing.render_listing(operation, result) == moto_body(operation, result)


@pytest.mark.parametrize("operation", ["ListObjectsV2", "ListObjects"])
def test_the_members_are_in_botocores_order(operation: str) -> None:
    """The order moto's serializer writes (the output shape's body members)."""
    model = get_service_model("s3")
    shape = model.operation_model(operation).output_shape
    body = [name for name, member in shape.members.items()
            if "location" not in member.serialization]
    assert list(s3_listing.MEMBERS[operation]) == body
    written = [n for n in model.shape_for("Object").members if n in s3_listing.OBJECT_MEMBERS]
    assert list(s3_listing.OBJECT_MEMBERS) == written
    assert list(s3_listing.OWNER_MEMBERS) == list(model.shape_for("Owner").members)


@pytest.mark.parametrize("operation, result", [
    ("ListObjectsV2", {"IsTruncated": False, "RequestCharged": "requester"}),
    ("ListObjectsV2", {"IsTruncated": False, "Contents": [{"Key": "k", "RestoreStatus": {}}]}),
    ("ListObjectsV2", {"IsTruncated": False, "Contents": [{"key": "k"}]}),
    ("ListObjectsV2", {"IsTruncated": False, "Contents": [{"Key": None}]}),
    ("ListObjectsV2", {"IsTruncated": False, "Contents": [{"Key": "k", "Owner": {}}]}),
    ("ListObjectsV2", {"IsTruncated": False, "Contents": "k"}),
    ("ListObjectsV2", {"IsTruncated": False, "MaxKeys": "many"}),
    ("ListObjects", {"IsTruncated": False, "KeyCount": 1}),
    ("ListObjectVersions", {"IsTruncated": False}),
])
def test_a_result_it_does_not_know_is_left_to_moto(operation: str,
                                                   result: dict[str, Any]) -> None:
    assert s3_listing.render_listing(operation, result) is None


def test_the_listing_is_an_s3_document() -> None:
    result = {"IsTruncated": True, "Name": "b", "Prefix": "", "MaxKeys": 1, "KeyCount": 1,
              "Contents": [{"Key": "a&b<c>", "LastModified": "2026-12-05T17:12:02.000Z",
                            "ETag": '"e"', "Size": 3, "StorageClass": "STANDARD",
                            "ChecksumAlgorithm": ["CRC32"]}],
              "NextContinuationToken": "t"}
    assert s3_listing.render_listing("ListObjectsV2", result) == (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b'<IsTruncated>true</IsTruncated><Contents><Key>a&amp;b&lt;c&gt;</Key>'
        b'<LastModified>2026-12-05T17:12:02.000Z</LastModified><ETag>"e"</ETag>'
        b'<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>3</Size>'
        b'<StorageClass>STANDARD</StorageClass></Contents><Name>b</Name><Prefix/>'
        b'<MaxKeys>1</MaxKeys><KeyCount>1</KeyCount>'
        b'<NextContinuationToken>t</NextContinuationToken></ListBucketResult>')
