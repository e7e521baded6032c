"""aws-lambda-powertools' parser models for the S3 and SNS events (``S3Model``, ``SnsModel``),
restated field by field with pydantic: powertools is not in requirements.lock, pydantic is.

Mirrors aws_lambda_powertools/utilities/parser/models/s3.py and sns.py (powertools 3.x): the
same field types, optionality and the S3 record's rule that every event but a removal carries
size and eTag.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, IPvAnyNetwork, NonNegativeFloat, model_validator


class S3Identity(BaseModel):
    principalId: str


class S3RequestParameters(BaseModel):
    sourceIPAddress: IPvAnyNetwork | Literal["s3.amazonaws.com"]


class S3ResponseElements(BaseModel):
    x_amz_request_id: str = Field(alias="x-amz-request-id")
    x_amz_id_2: str = Field(alias="x-amz-id-2")


class S3Bucket(BaseModel):
    name: str
    ownerIdentity: S3Identity
    arn: str


class S3Object(BaseModel):
    key: str
    size: NonNegativeFloat | None = None
    eTag: str | None = None
    sequencer: str | None = None
    versionId: str | None = None


class S3Message(BaseModel):
    s3SchemaVersion: str
    configurationId: str
    bucket: S3Bucket
    object: S3Object | None = None


class S3RecordModel(BaseModel):
    eventVersion: str
    eventSource: Literal["aws:s3"] = "aws:s3"
    awsRegion: str
    eventTime: datetime
    eventName: str
    userIdentity: S3Identity
    requestParameters: S3RequestParameters
    responseElements: S3ResponseElements
    s3: S3Message

    @model_validator(mode="before")
    @classmethod
    def size_and_etag_unless_removed(cls, values: dict) -> dict:
        s3_object = values["s3"].get("object") or {}
        if ":Delete" not in values["eventName"] and (
                s3_object.get("size") is None or s3_object.get("eTag") is None):
            raise ValueError("Size and eTag fields are required for all events except "
                             "ObjectRemoved:* and LifecycleExpiration:*.")
        return values


class S3Model(BaseModel):
    Records: list[S3RecordModel]


class SnsMsgAttributeModel(BaseModel):
    Type: str
    Value: str


class SnsNotificationModel(BaseModel):
    Subject: str | None = None
    TopicArn: str
    UnsubscribeUrl: HttpUrl
    Type: Literal["Notification"]
    MessageAttributes: dict[str, SnsMsgAttributeModel] | None = None
    Message: str
    MessageId: str
    SigningCertUrl: HttpUrl | None = None
    Signature: str | None = None
    Timestamp: datetime
    SignatureVersion: str | None = None


class SnsRecordModel(BaseModel):
    EventSource: Literal["aws:sns"]
    EventVersion: str
    EventSubscriptionArn: str
    Sns: SnsNotificationModel


class SnsModel(BaseModel):
    Records: list[SnsRecordModel]
